"""Log lines are written by a thread of their own: a write that blocks never holds up
the code that logs (on a service's event loop, every request)."""

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from tests.support.waiting import polled
from ucap_shared import logs
from ucap_shared.logs import configure_logging, correlation_id


class HeldStream(io.StringIO):
    """A stream whose writes wait until ``release`` is set (a full pipe, a slow disk)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait(10)
        return super().write(text)


@pytest.fixture
def held() -> Iterator[HeldStream]:
    stream = HeldStream()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        yield stream
    finally:
        stream.release.set()
        logs.stop_log_writer()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_logging_returns_while_the_write_is_held_and_the_line_comes_after(
    held: HeldStream,
) -> None:
    configure_logging("test", stream=held)
    token = correlation_id.set("c-42")
    try:
        logging.getLogger("ucap.test").warning("held", extra={"pilot_id": "p1"})
    finally:
        correlation_id.reset(token)

    assert held.getvalue() == ""
    held.release.set()
    written = polled(held.getvalue, lambda text: text.endswith("\n"), timeout=5, interval=0.01)
    line = json.loads(written)
    assert line["message"] == "held"
    assert line["correlation_id"] == "c-42"  # taken where it was logged, not in the thread
    assert line["pilot_id"] == "p1"


def test_what_is_queued_is_written_when_the_writer_stops(held: HeldStream) -> None:
    configure_logging("test", stream=held)
    for n in range(3):
        logging.getLogger("ucap.test").warning("line %d", n)
    held.release.set()

    logs.stop_log_writer()  # as at exit

    assert [json.loads(line)["message"] for line in held.getvalue().splitlines()] == [
        "line 0",
        "line 1",
        "line 2",
    ]


class CountedStream(io.StringIO):
    """Counts its writes; the first waits until ``release`` is set, so lines queue up."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.writes = 0

    def write(self, text: str) -> int:
        self.release.wait(10)
        self.writes += 1
        return super().write(text)


def test_lines_queued_while_a_write_waits_go_out_in_one_write() -> None:
    stream = CountedStream()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("test", stream=stream)
        logging.getLogger("ucap.test").warning("first")
        for n in range(200):
            logging.getLogger("ucap.test").warning("queued %d", n)
        stream.release.set()
        logs.stop_log_writer()
    finally:
        stream.release.set()
        logs.stop_log_writer()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])

    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert messages == ["first", *(f"queued {n}" for n in range(200))]
    assert stream.writes <= 3  # one line a write would be 201


def test_the_gateways_calls_are_not_logged_line_by_line(held: HeldStream) -> None:
    configure_logging("test", stream=held)
    held.release.set()

    logging.getLogger("httpx").info('HTTP Request: GET http://pilots/health/live "200 OK"')
    logging.getLogger("httpx").warning("kept")
    logs.stop_log_writer()

    assert [json.loads(line)["message"] for line in held.getvalue().splitlines()] == ["kept"]
