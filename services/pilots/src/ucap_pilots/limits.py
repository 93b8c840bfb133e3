"""Guards on what a client may send: body size (413) and operator-like keys (422).

The size limit is a plain ASGI middleware: a declared ``Content-Length`` over
the limit is refused before the app runs, and a body streamed without one is
counted as it arrives; once over, the app's own answer is dropped and 413 sent.
"""

import json
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucap_shared.errors import FieldProblem, InvalidInputError

TOO_LARGE = json.dumps(
    {"error": "too_large", "detail": "the request body is larger than this service accepts"}
).encode()


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    # The app sees the client go away and stops reading.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _refuse(send)


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(TOO_LARGE)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})


def operator_key_problems(value: Any, loc: list[str | int]) -> list[FieldProblem]:  # noqa: ANN401 - any JSON
    """Every key, at any depth, that MongoDB could read as an operator or a path."""
    problems: list[FieldProblem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).startswith("$") or "." in str(key):
                problems.append(
                    FieldProblem(
                        loc=[*loc, str(key)],
                        msg="keys may not begin with $ or contain a dot",
                    )
                )
            problems += operator_key_problems(item, [*loc, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += operator_key_problems(item, [*loc, index])
    return problems


async def refuse_operator_keys(request: Request) -> None:
    """A route dependency: 422 listing every ``$…`` or dotted key in a JSON body."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    raw = await request.body()
    if not raw:
        return
    try:
        body = json.loads(raw)
    except ValueError:
        return  # FastAPI answers malformed JSON itself
    problems = operator_key_problems(body, ["body"])
    if problems:
        raise InvalidInputError(problems)
