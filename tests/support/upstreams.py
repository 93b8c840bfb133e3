"""Upstreams that answer from the test itself, for unit tests of what the gateway compiles."""

from collections.abc import Callable, Sequence

import httpx

from ucap_gateway.upstreams import Upstreams

Answer = Callable[[str, str], httpx.Response]
"""A response for a service and a path."""


class AnsweringUpstreams(Upstreams):
    """Answers every request with ``answer(service, path)`` and notes which were asked,
    and before the answer, ``before()`` (to note who the request would be sent as)."""

    def __init__(self, answer: Answer, before: Callable[[], None] = lambda: None) -> None:
        super().__init__({}, timeout=1, signing_key="test", token_ttl=60)
        self.answer = answer
        self.before = before
        self.asked: list[str] = []
        self.headers_sent: list[dict[bytes, bytes]] = []
        self.paths: list[str] = []

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: httpx.QueryParams | None = None,
        headers: Sequence[tuple[bytes, bytes]] = (),
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        self.before()
        self.asked.append(service)
        self.headers_sent.append(dict(headers))
        self.paths.append(path)
        return self.answer(service, path)
