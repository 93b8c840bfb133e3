"""Who may come in: API keys checked, rate limited, the caller remembered.

Every path but the health endpoints (and, outside production, the API docs)
needs a key, in ``Authorization: Bearer ucap_…`` or ``X-API-Key``.
"""

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from ucap_gateway.keys import KeyStore
from ucap_gateway.ratelimit import RateLimiter
from ucap_shared.auth import current_principal

OPEN_ALWAYS = ("/health/live", "/health/ready")
DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def presented_key(request: Request) -> str | None:
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def install_gatekeeper(app: FastAPI, *, docs_open: bool) -> None:
    open_paths = OPEN_ALWAYS + (DOCS if docs_open else ())

    @app.middleware("http")
    async def gatekeeper(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path in open_paths:
            return await call_next(request)
        key = presented_key(request)
        if key is None:
            return _unauthenticated("an API key is required (Authorization: Bearer or X-API-Key)")
        keys: KeyStore | None = getattr(request.app.state, "keys", None)
        if keys is None:
            return JSONResponse(
                status_code=503, content={"error": "starting", "detail": "try again"}
            )
        record = await keys.authenticate(key)
        if record is None:
            return _unauthenticated("unknown or revoked API key")
        limiter: RateLimiter = request.app.state.rate_limiter
        wait = limiter.take(record.key_id)
        if wait > 0:
            return JSONResponse(
                status_code=429,
                content={"error": "rate_limited", "detail": "too many requests for this key"},
                headers={"Retry-After": limiter.retry_after(wait)},
            )
        token = current_principal.set(record.as_principal())
        try:
            return await call_next(request)
        finally:
            current_principal.reset(token)


def _unauthenticated(detail: str) -> JSONResponse:
    return JSONResponse(
        status_code=401,
        content={"error": "unauthenticated", "detail": detail},
        headers={"WWW-Authenticate": 'Bearer realm="ucap"'},
    )
