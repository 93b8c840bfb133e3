"""What a request carries through a service: its correlation id and, for an admin only,
the time ``X-UCAP-Occurred-At`` dates what it records."""

import logging
import re
import uuid
from datetime import UTC, datetime

from fastapi import Response
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucap_shared.auth import current_principal
from ucap_shared.dates import PartialDate, utc_moment
from ucap_shared.errors import INVALID_INPUT
from ucap_shared.logs import correlation_id, occurred_at

CORRELATION_HEADER = "X-Correlation-ID"
CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
OCCURRED_AT_HEADER = "X-UCAP-Occurred-At"

log = logging.getLogger(__name__)


def parse_occurred_at(value: str | None) -> datetime | None:
    """``2018-07`` or ``2018-07-15`` or an ISO timestamp: when a recorded fact happened.

    Dates at month or year precision mean their first day, at noon UTC.
    """
    if not value:
        return None
    if "T" not in value:
        day = PartialDate.parse(value).first_day
        return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return utc_moment(datetime.fromisoformat(value))


class CorrelationAndDating:
    """The request's correlation id (the caller's, or a new one) and, for an admin only,
    the time ``X-UCAP-Occurred-At`` dates what it records; the answer carries the id.

    Plain ASGI: a ``BaseHTTPMiddleware`` costs every request a task and a stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cid = checked_correlation_id(headers.get(CORRELATION_HEADER))
        dated = _dated_or_refused(headers.get(OCCURRED_AT_HEADER))
        if isinstance(dated, Response):
            await dated(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = cid
            await send(message)

        token = correlation_id.set(cid)
        occurred = occurred_at.set(dated)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
            occurred_at.reset(occurred)


def checked_correlation_id(given: str | None) -> str:
    """The caller's correlation id if it is a short plain token; else a new one (logged).

    It goes into every event and log line of the request, so a megabyte of it, or a
    line break, would too.
    """
    if given is None:
        return str(uuid.uuid4())
    if CORRELATION_ID.fullmatch(given):
        return given
    fresh = str(uuid.uuid4())
    log.warning(
        "correlation id replaced",
        extra={"given_length": len(given), "given_start": given[:32], "replaced_by": fresh},
    )
    return fresh


def _dated_or_refused(value: str | None) -> datetime | Response | None:
    """The occurred-at time asked for, or the answer refusing it: only an admin's is
    read at all, and no value makes anything but 403 or 422."""
    if not value:
        return None
    caller = current_principal.get()
    if caller is None or not caller.is_admin:
        return JSONResponse(
            status_code=403,
            content={
                "error": "forbidden",
                "detail": f"only an admin may date what it records ({OCCURRED_AT_HEADER})",
            },
        )
    try:
        return parse_occurred_at(value)
    except ValueError as error:
        return JSONResponse(
            status_code=422,
            content={
                "error": INVALID_INPUT,
                "detail": [
                    {
                        "loc": ["header", OCCURRED_AT_HEADER],
                        "msg": str(error),
                        "type": "value_error",
                    }
                ],
            },
        )
