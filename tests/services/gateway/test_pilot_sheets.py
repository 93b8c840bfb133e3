"""The pilots list as a spreadsheet is streamed page by page, and a failed page is never
passed off as the end of the list.

The gateway runs as a real process; the pilots service is a small HTTP server of
the test's own that pages a list as the pilots service does, holds a page until
the test lets it go, and fails a page when told to.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.support.processes import RunningService
from tests.support.raw_http import raw_request
from tests.support.served import gateway_before, served

PAGES = {
    None: (["pilot-a", "pilot-b"], "page-2"),
    "page-2": (["pilot-c"], "page-3"),
    "page-3": (["pilot-d"], None),
}


class FakePilots(ThreadingHTTPServer):
    """``GET /pilots`` in pages of ``PAGES``; page 2 waits for ``release``; with
    ``failing``, page 3 answers 503."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), PagesHandler)
        self.release = threading.Event()
        self.failing = False
        self.asked: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class PagesHandler(BaseHTTPRequestHandler):
    server: FakePilots

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/pilots":
            self._answer(404, {"error": "not_found", "detail": "no such endpoint"})
            return
        cursor = parse_qs(url.query).get("cursor", [None])[0]
        self.server.asked.append(cursor)
        if cursor == "page-2":
            self.server.release.wait(timeout=20)
        if cursor == "page-3" and self.server.failing:
            self._answer(503, {"error": "unavailable", "detail": "the pilots view is busy"})
            return
        ids, next_cursor = PAGES[cursor]
        items = [{"id": pilot_id, "title": pilot_id.title(), "updates": []} for pilot_id in ids]
        self._answer(200, {"items": items, "next_cursor": next_cursor})

    def _answer(self, status: int, body: dict[str, object]) -> None:
        content = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pilots_server() -> Iterator[FakePilots]:
    server = FakePilots()
    with served(server):
        yield server
        server.release.set()


@pytest.fixture
def pilots(pilots_server: FakePilots) -> Iterator[FakePilots]:
    """The pilots service as each test begins: page 2 held, page 3 answered."""
    pilots_server.release.clear()
    pilots_server.failing = False
    pilots_server.asked.clear()
    yield pilots_server
    pilots_server.release.set()


@pytest.fixture(scope="module")
def gateway(
    service_env: dict[str, str],
    pilots_server: FakePilots,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningService]:
    with gateway_before(
        service_env,
        {"pilots": pilots_server.url},
        tmp_path_factory.mktemp("gateway-logs"),
        TMPDIR=str(tmp_path_factory.mktemp("gateway-tmp")),
    ) as running:
        yield running


class TestStreamedPilotsList:
    def test_the_first_page_s_rows_go_out_before_the_next_page_has_come(
        self, gateway: RunningService, pilots: FakePilots
    ) -> None:
        received = b""
        with httpx.stream(
            "GET",
            f"{gateway.url}/pilots",
            params={"format": "csv", "ucap": "granada-ucap"},
            headers=gateway.headers,
            timeout=30,
        ) as answer:
            assert answer.status_code == 200
            chunks = answer.iter_bytes()
            while b"pilot-b" not in received:
                received += next(chunks)
            # Page 1's rows are out while page 2 is held back by the pilots service.
            assert not pilots.release.is_set()
            pilots.release.set()
            received += b"".join(chunks)
        lines = received.decode("utf-8-sig").splitlines()
        assert [line.split(",")[0] for line in lines[1:]] == [
            "pilot-a",
            "pilot-b",
            "pilot-c",
            "pilot-d",
        ]
        assert pilots.asked == [None, "page-2", "page-3"]

    def test_a_failed_page_breaks_the_csv_off_and_is_the_xlsx_answer(
        self, gateway: RunningService, pilots: FakePilots
    ) -> None:
        pilots.failing = True
        pilots.release.set()
        url = f"{gateway.url}/pilots"
        with (  # noqa: PT012 - the answer starts well and is cut as it is read
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream(
                "GET", url, params={"format": "csv"}, headers=gateway.headers, timeout=30
            ) as answer,
        ):
            assert answer.status_code == 200
            answer.read()
        refused = httpx.get(url, params={"format": "xlsx"}, headers=gateway.headers, timeout=30)
        assert refused.status_code == 503
        assert refused.json() == {"error": "unavailable", "detail": "the pilots view is busy"}
        left = list(Path(gateway.env["TMPDIR"]).glob("openpyxl.*"))
        assert left == [], "the rows written before the failure are removed"

    def test_a_path_that_only_decodes_to_the_list_is_404_and_not_asked_for(
        self, gateway: RunningService, pilots: FakePilots
    ) -> None:
        answer = raw_request(gateway.url, "GET", "/pilot%73?format=csv", gateway.headers)
        assert answer.status == 404, answer.body
        assert answer.json()["error"] == "not_found"
        assert pilots.asked == []
