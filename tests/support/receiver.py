"""A webhook receiver for tests: a small HTTP server on loopback, in a thread.

It records every request it gets and answers each with the next status of its
script (200 once the script runs out), so a test can make it fail a number of times.
"""

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


HOLD_SECONDS = 30


@dataclass
class Receiver:
    url: str
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: int = 0
    """Requests that came in, answered or still held."""
    held: tuple[threading.Event, int] | None = None

    def hold(self, status: int) -> threading.Event:
        """Every request from now on waits until the returned event is set (at most
        ``HOLD_SECONDS``), then is answered ``status``."""
        release = threading.Event()
        with self.lock:
            self.held = (release, status)
        return release

    def arrive(self) -> int:
        """Note a request come in; once a hold lets it go, the status to answer."""
        with self.lock:
            self.arrived += 1
            held = self.held
        if held is not None:
            release, status = held
            release.wait(HOLD_SECONDS)
            return status
        return self.answer()

    def arrivals(self) -> int:
        with self.lock:
            return self.arrived

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def record(self, request: Received) -> None:
        with self.lock:
            self.received.append(request)

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def fail_next(self, times: int, status: int = 500) -> None:
        with self.lock:
            self.script = [status] * times


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.arrive()
            receiver.record(Received(self.path, dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def running_receiver(path: str = "/hooks") -> Iterator[Receiver]:
    receiver = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def signature_holds(secret: str, request: Received, *, window_seconds: int = 300) -> bool:
    """What a receiver checks, as the README shows it: HMAC-SHA256 of ``<timestamp>.<body>``
    with the subscription's secret, and a timestamp within the replay window."""
    timestamp = request.headers["X-UCAP-Timestamp"]
    signed = timestamp.encode() + b"." + request.body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= window_seconds
    return fresh and hmac.compare_digest(expected, request.headers["X-UCAP-Signature"])
