"""Requests as a hostile client sends them: paths not normalised, heads cut short, bodies
announced and never sent (httpx collapses ``/a/../b`` and sends what it announces)."""

import http.client
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    url: str, method: str, path: str, headers: dict[str, str] | None = None, *, timeout: float = 10
) -> RawAnswer:
    """``method path`` sent exactly as given (no dot segment resolved, nothing re-encoded)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return RawAnswer(
            answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        )
    finally:
        connection.close()


def answer_to_head(url: str, head: bytes, *, timeout: float) -> bytes:
    """What the server writes back (until it closes or ``timeout`` passes) to ``head``
    alone: a body it announces is never sent."""
    parts = urlsplit(url)
    with socket.create_connection(
        (parts.hostname or "", parts.port or 80), timeout=timeout
    ) as sock:
        sock.sendall(head)
        return read_until_closed(sock, timeout=timeout)


def read_until_closed(sock: socket.socket, *, timeout: float) -> bytes:
    """Everything the peer sends until it closes, or what came before ``timeout``."""
    received = b""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
        if b"\r\n\r\n" in received and _complete(received):
            break
    return received


def _complete(received: bytes) -> bool:
    """Whether a whole answer has come: its Content-Length, or the last chunk."""
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            return body.endswith(b"0\r\n\r\n")
    return False


def status_of(answer: bytes) -> int | None:
    """The status code of a raw HTTP answer; None when nothing came."""
    if not answer.startswith(b"HTTP/1."):
        return None
    return int(answer.split(b" ", 2)[1])
