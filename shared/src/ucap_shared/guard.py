"""The checks every request to a service passes before any route sees it.

- a valid token for this service (401 otherwise), except on the health
  endpoints and, outside production, the API docs (the gateway, which checks
  API keys instead, asks for no token);
- an admin for operations data, ``/metrics`` and ``/ops/*`` (403 otherwise),
  whichever router serves it;
- at a service, no path segment that is ``.`` or ``..`` or holds an encoded
  slash (404): a client on the way may resolve it elsewhere;
- a body no larger than the configured size (413), whatever Content-Length says,
  read only once the token holds;
- a body nested no deeper than the configured depth (422), whatever its content
  type (FastAPI parses a body as JSON under most of them);
- at a service, no NUL character (U+0000) in the path, the query or a JSON
  string (422): no ucap value holds one, and PostgreSQL, under FerretDB, can
  neither store nor compare one (a query naming it failed with a 500).

A ``RecursionError`` from further in, before an answer has started, is 422 too.
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ucap_shared.auth import InvalidTokenError, VerifiedTokens, current_principal
from ucap_shared.endpoints import path_refusal, raw_path_of, unsafe_path
from ucap_shared.errors import INVALID_INPUT

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ALWAYS_OPEN = ("/health/live", "/health/ready")
DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        audience: str | None,
        key: str,
        max_body_bytes: int,
        max_json_depth: int,
        open_paths: tuple[str, ...],
    ) -> None:
        self.app = app
        self.audience = audience
        self._tokens = VerifiedTokens(audience=audience, key=key) if audience else None
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.audience is None:
            # The gateway: its gatekeeper, outside, has admitted the caller.
            await self._guarded(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        token = current_principal.set(None)
        try:
            if scope["path"] not in self.open_paths:
                scheme, _, credentials = headers.get("authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not credentials:
                    await _refuse(send, 401, "unauthenticated", "a bearer token is required")
                    return
                assert self._tokens is not None
                try:
                    current_principal.set(self._tokens.verify(credentials))
                except InvalidTokenError as error:
                    await _refuse(send, 401, "unauthenticated", f"invalid token: {error}")
                    return
                if unsafe_path(raw_path_of(scope)):
                    await path_refusal()(scope, receive, send)
                    return
            await self._guarded(scope, receive, send)
        finally:
            current_principal.reset(token)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The operations check and the body's, then the app."""
        if _operations_data(scope["path"]):
            caller = current_principal.get()
            if caller is None or not caller.is_admin:
                who = caller.subject if caller is not None else "an anonymous caller"
                await _refuse(send, 403, "forbidden", f"{who} may not read operations data")
                return
        declared = next((v for k, v in scope["headers"] if k.lower() == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(send, 413, "too_large", self._too_large())
            return
        body = await self._read_body(receive)
        if body is None:
            await _refuse(send, 413, "too_large", self._too_large())
            return
        # At the gateway (no token asked for) a NUL goes on to the service, which refuses it.
        services_it = self.audience is not None
        if services_it and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            await _refuse_nul(send, "path" if "\x00" in scope["path"] else "query")
            return
        if body:
            deepest, nul = _scan(body)
            if deepest > self.max_json_depth:
                await _refuse_depth(send, self.max_json_depth)
                return
            if nul and services_it:
                await _refuse_nul(send, "body")
                return
        await self._app_without_recursion(scope, _replay(body, receive), send)

    async def _app_without_recursion(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except RecursionError:
            if started:
                raise
            await _refuse_depth(send, self.max_json_depth)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit (nothing more is read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _operations_data(path: str) -> bool:
    return path == "/metrics" or path == "/ops" or path.startswith("/ops/")


def _scan(body: bytes) -> tuple[int, bool]:
    """How deeply the JSON text nests arrays and objects, and whether a string in it
    escapes a NUL (``\\u0000``)."""
    depth = deepest = 0
    in_string = escaped = nul = False
    for at, byte in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
                nul = nul or body[at : at + 5] == b"u0000"
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest, nul


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, error: str, detail: str) -> None:
    headers = [(b"content-type", b"application/json")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="ucap"'))
    await _respond(send, status, {"error": error, "detail": detail}, headers)


async def _refuse_depth(send: Send, limit: int) -> None:
    body = {
        "error": INVALID_INPUT,
        "detail": [
            {"loc": ["body"], "msg": f"JSON nested deeper than {limit} levels", "type": "depth"}
        ],
    }
    await _respond(send, 422, body, [(b"content-type", b"application/json")])


async def _refuse_nul(send: Send, where: str) -> None:
    body = {
        "error": INVALID_INPUT,
        "detail": [
            {"loc": [where], "msg": "text may not hold the NUL character (U+0000)", "type": "nul"}
        ],
    }
    await _respond(send, 422, body, [(b"content-type", b"application/json")])


async def _respond(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
