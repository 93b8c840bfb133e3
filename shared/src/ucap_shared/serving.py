"""uvicorn, run with limits: connections, idle time, and the size and time of a request's head.

uvicorn's httptools parser, the one it picks when installed, takes request
headers of any size and waits for them for ever (its keep-alive timeout only
runs between requests). :class:`LimitedHttpToolsProtocol` answers 431 once a
head passes ``UCAP_HTTP_MAX_HEAD_BYTES`` and 408 once it has taken
``UCAP_HTTP_HEAD_TIMEOUT_SECONDS``, closing the connection either way (h11,
where chosen, holds the size itself: ``h11_max_incomplete_event_size``). Past
``UCAP_HTTP_LIMIT_CONCURRENCY`` open connections or requests in progress, a
request is 503 in the one error body (uvicorn's own is plain text).
"""

import asyncio
import json
import logging
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from ucap_shared.settings import ServiceSettings

log = logging.getLogger(__name__)
LINGER_SECONDS = 1.0


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        http=limited_protocol(settings),
        limit_concurrency=settings.http_limit_concurrency,
        timeout_keep_alive=settings.http_keep_alive_seconds,
        h11_max_incomplete_event_size=settings.http_max_head_bytes,
    )


def limited_protocol(settings: ServiceSettings) -> type["LimitedHttpToolsProtocol"]:
    class Limited(LimitedHttpToolsProtocol):
        max_head_bytes = settings.http_max_head_bytes
        head_timeout_seconds = settings.http_head_timeout_seconds

    return Limited


async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    refusal = JSONResponse(
        status_code=503,
        content={
            "error": "unavailable",
            "detail": "the server holds as many connections as it serves; try again",
        },
        headers={"Retry-After": "1", "Connection": "close"},
    )
    await refusal(scope, receive, send)


def _answer(status: int, reason: str, detail: str, error: str) -> bytes:
    body = json.dumps({"error": error, "detail": detail}).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """httptools, with a bound on the bytes and the time a request's head may take.

    A head runs from the connection's start, or the end of the message before, to
    ``on_headers_complete``; each chunk read wholly within one is counted, and a head
    that ends is measured as parsed.
    """

    max_head_bytes = 32_768
    head_timeout_seconds = 10.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Held here rather than by uvicorn, whose refusal is plain text, not the error body.
        self._concurrency, self.limit_concurrency = self.limit_concurrency, None
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False
        self._heads = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        heads_before, began_in_head = self._heads, self._in_head
        super().data_received(data)
        # Only a chunk wholly within one head is counted: a head that ended in it was
        # measured whole, and a chunk that began in a body holds the body's bytes.
        if not began_in_head or self._heads != heads_before or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self.max_head_bytes:
            self._refuse_too_large()

    def _refuse_too_large(self) -> None:
        self._refuse(
            _answer(
                431,
                "Request Header Fields Too Large",
                f"the request line and headers pass {self.max_head_bytes} bytes",
                "too_large",
            )
        )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._heads += 1
        self._in_head = False
        self._head_bytes = 0
        self._disarm_head_timer()
        # A head that came in one chunk was never counted: its parsed size is.
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_head_bytes:
            self._refuse_too_large()
            return
        if not self._over_concurrency():
            super().on_headers_complete()
            return
        log.warning("concurrency limit reached", extra={"limit": self._concurrency})
        app, self.app = self.app, _unavailable
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def _over_concurrency(self) -> bool:
        limit = self._concurrency
        return limit is not None and max(len(self.connections), len(self.tasks)) >= limit

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_seconds, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # the request before is still being answered: not this head's time
        self._refuse(
            _answer(
                408,
                "Request Timeout",
                f"the request line and headers took over {self.head_timeout_seconds:g} s",
                "timeout",
            )
        )

    def _refuse(self, answer: bytes) -> None:
        """Answer, then read and drop what still comes for a moment before closing: closed
        at once, the client's unread bytes would reset the connection and lose the answer."""
        self._disarm_head_timer()
        log.warning("request head refused", extra={"client": self.client})
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        self._refused = True
        self.transport.write(answer)
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
