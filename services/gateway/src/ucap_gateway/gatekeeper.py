"""Who may come in: API keys checked, rate limited, the caller remembered.

Every path but the health endpoints, the log-in form (and, outside production,
the API docs) needs a key, in ``Authorization: Bearer ucap_…`` or ``X-API-Key``.
For GET and HEAD the log-in cookie's key does too (see ``login``); a browser
asking for a page without one is sent to the log-in form, anyone else gets 401.
The key is checked before anything reads the request's body; failed
authentications are counted per client address (see ``attempts``); an admitted
request whose path has a dot segment or an encoded slash is 404 (see
``ucap_shared.endpoints.unsafe_path``): nothing behind resolves it elsewhere.
"""

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ucap_gateway.attempts import authenticate, held_back_answer
from ucap_gateway.keys import KeyRecord
from ucap_gateway.login import COOKIE, LOGIN_PATHS, forget_session, login_url
from ucap_gateway.ratelimit import RateLimiter
from ucap_shared.auth import current_principal
from ucap_shared.endpoints import path_refusal, raw_path_of, unsafe_path

OPEN_ALWAYS = ("/health/live", "/health/ready", *LOGIN_PATHS)
DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
SAFE_METHODS = ("GET", "HEAD")


def presented_key(request: Request) -> str | None:
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def install_gatekeeper(app: FastAPI, *, docs_open: bool) -> None:
    app.add_middleware(Gatekeeper, open_paths=OPEN_ALWAYS + (DOCS if docs_open else ()))


class Gatekeeper:
    """Plain ASGI: a ``BaseHTTPMiddleware`` costs every request a task and a stream."""

    def __init__(self, app: ASGIApp, *, open_paths: tuple[str, ...]) -> None:
        self.app = app
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.open_paths:
            # A log-in's key is in its body: an address held back is refused before it is read.
            if scope["method"] == "POST" and scope["path"] == LOGIN_PATHS[0]:
                held_back = held_back_answer(Request(scope))
                if held_back is not None:
                    await held_back(scope, receive, send)
                    return
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        admitted = await _admitted(request)
        if isinstance(admitted, Response):
            await admitted(scope, receive, send)
            return
        if unsafe_path(raw_path_of(scope)):
            await path_refusal()(scope, receive, send)
            return
        request.state.key_id = admitted.key_id
        token = current_principal.set(admitted.as_principal())
        try:
            await self.app(scope, receive, send)
        finally:
            current_principal.reset(token)


async def _admitted(request: Request) -> KeyRecord | Response:
    """The caller's key, or the answer that refuses it."""
    key = presented_key(request)
    session_key = request.cookies.get(COOKIE)
    if session_key is not None:
        _drop_cookie_header(request)
    from_cookie = key is None and session_key is not None and request.method in SAFE_METHODS
    if from_cookie:
        key = session_key
    if key is None:
        return _unauthenticated(
            request, "an API key is required (Authorization: Bearer or X-API-Key)"
        )
    if getattr(request.app.state, "keys", None) is None:
        return JSONResponse(status_code=503, content={"error": "starting", "detail": "try again"})
    record = await authenticate(request, key)
    if isinstance(record, Response):
        return record
    if record is None:
        refused = _unauthenticated(request, "unknown or revoked API key")
        if from_cookie:
            forget_session(refused, secure=request.app.state.runtime.settings.production)
        return refused
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take(record.key_id)
    if wait > 0:
        return JSONResponse(
            status_code=429,
            content={"error": "rate_limited", "detail": "too many requests for this key"},
            headers={"Retry-After": limiter.retry_after(wait)},
        )
    return record


def _drop_cookie_header(request: Request) -> None:
    """The services behind get the caller's token, never the key it logged in with."""
    request.scope["headers"] = [
        (name, value) for name, value in request.scope["headers"] if name != b"cookie"
    ]


def _unauthenticated(request: Request, detail: str) -> Response:
    if request.method in SAFE_METHODS and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(login_url(request), status_code=303)
    return JSONResponse(
        status_code=401,
        content={"error": "unauthenticated", "detail": detail},
        headers={"WWW-Authenticate": 'Bearer realm="ucap"'},
    )
