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
