"""The services behind the gateway, reached over pooled HTTP connections."""

import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import httpx
from fastapi import Request, Response, status
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from ucap_gateway.shared_reads import SharedReads
from ucap_shared.auth import ServiceTokens, current_principal
from ucap_shared.logs import correlation_id
from ucap_shared.request_context import CORRELATION_HEADER
from ucap_shared.tracing import tracing_on

log = logging.getLogger(__name__)

# Hop-by-hop headers (RFC 9110 §7.6.1), those the gateway sets itself, and the
# caller's credentials, which are for the gateway alone.
_NOT_FORWARDED = {
    "authorization",
    "x-api-key",
    "cookie",
    "x-correlation-id",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}
KEEPALIVE_SECONDS = 2.0
PROBE_SECONDS = 1.0
# Answer headers the gateway's own server writes.
_SET_BY_GATEWAY = {"date", "server"}


class UpstreamUnavailableError(Exception):
    def __init__(self, service: str, reason: str, *, timed_out: bool) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.timed_out = timed_out


class Upstreams:
    """One pooled client per service, keyed by service name."""

    def __init__(
        self, urls: Mapping[str, str], *, timeout: float, signing_key: str, token_ttl: int
    ) -> None:
        self._tokens = ServiceTokens(key=signing_key, ttl_seconds=token_ttl)
        self._probes = SharedReads(interval=PROBE_SECONDS)
        # Idle connections are dropped before uvicorn's keep-alive timeout (5 s) can close
        # them under a request: kept statuses are compiled again every 5 s.
        limits = httpx.Limits(
            max_connections=200, max_keepalive_connections=50, keepalive_expiry=KEEPALIVE_SECONDS
        )
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits)
            for name, url in urls.items()
        }
        if tracing_on():  # a client span per call, its traceparent continued by the service
            for client in self._clients.values():
                HTTPXClientInstrumentor.instrument_client(client)

    @property
    def names(self) -> list[str]:
        return list(self._clients)

    async def answers(self, service: str, *, timeout: float) -> bool:
        """Whether ``service`` answers its liveness probe (``GET /health/live``): asked at
        most once a ``PROBE_SECONDS``, the answer shared by every caller meanwhile."""
        return await self._probes.get(service, partial(self._probe, service, timeout))

    async def _probe(self, service: str, timeout: float) -> bool:
        try:
            answer = await self.request(service, "GET", "/health/live", timeout=timeout)
        except UpstreamUnavailableError:
            return False
        return answer.status_code == status.HTTP_200_OK

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

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
        """Send one request to ``service``; UpstreamUnavailableError when it cannot answer.

        ``headers`` are raw, as a caller sent them: a value need not be ASCII.
        """
        outgoing = list(headers)
        if (cid := correlation_id.get()) is not None:
            outgoing.append((CORRELATION_HEADER.lower().encode(), cid.encode()))
        if (caller := current_principal.get()) is not None:
            token = self._tokens.for_caller(caller, service)
            outgoing.append((b"authorization", f"Bearer {token}".encode()))
        client = self._clients[service]
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            try:
                return await client.request(
                    method, path, params=params, headers=outgoing, content=content, **extra
                )
            except httpx.RemoteProtocolError:
                # The service closed a pooled connection as it was reused; a read may go again.
                if method not in ("GET", "HEAD"):
                    raise
                return await client.request(
                    method, path, params=params, headers=outgoing, content=content, **extra
                )
        except httpx.InvalidURL as error:
            raise UpstreamUnavailableError(
                service, f"the request cannot be forwarded: {error}", timed_out=False
            ) from error
        except httpx.TimeoutException as error:
            raise UpstreamUnavailableError(
                service, f"no answer in time ({type(error).__name__})", timed_out=True
            ) from error
        except httpx.TransportError as error:
            raise UpstreamUnavailableError(
                service, f"unreachable ({type(error).__name__}: {error})", timed_out=False
            ) from error

    async def forward(self, service: str, request: Request, path: str) -> Response:
        """Pass ``request`` on to ``service`` and its answer back, status and body as they are."""
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.decode("latin-1").lower() not in _NOT_FORWARDED
        ]
        # The path as the caller sent it (still percent-encoded), not decoded.
        raw_path = request.scope.get("raw_path")
        if isinstance(raw_path, bytes):
            path = raw_path.decode("ascii", errors="replace")
        try:
            answer = await self.request(
                service,
                request.method,
                path,
                params=httpx.QueryParams(str(request.query_params)),
                headers=headers,
                content=await request.body(),
            )
        except UpstreamUnavailableError as error:
            return unavailable_response(error)
        passed = {
            name: value
            for name, value in answer.headers.items()
            if name.lower() not in _NOT_FORWARDED and name.lower() not in _SET_BY_GATEWAY
        }
        return Response(content=answer.content, status_code=answer.status_code, headers=passed)


def unavailable_response(error: UpstreamUnavailableError) -> JSONResponse:
    code = status.HTTP_504_GATEWAY_TIMEOUT if error.timed_out else status.HTTP_502_BAD_GATEWAY
    log.warning("upstream unavailable", extra={"service": error.service, "reason": error.reason})
    return JSONResponse(
        status_code=code,
        content={
            "error": "upstream_timeout" if error.timed_out else "upstream_unavailable",
            "detail": f"the {error.service} service is unavailable: {error.reason}",
            "service": error.service,
        },
    )
