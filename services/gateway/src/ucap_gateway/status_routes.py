"""The gateway's own routes: the compiled U-CAP status, the programme, and their live feeds."""

import json
from collections.abc import AsyncIterator, Hashable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from ucap_gateway.compose import (
    Axis,
    CompiledStatus,
    ReportingUnavailableError,
    UpstreamAnswerError,
    compile_status,
)
from ucap_gateway.config import Settings
from ucap_gateway.feeds import FeedGate
from ucap_gateway.kept import Keeper, Snapshot
from ucap_gateway.kept_answers import Document, ProgrammeKey
from ucap_gateway.live import follow
from ucap_gateway.programme import programme_html, programme_markdown
from ucap_gateway.render import html, markdown
from ucap_gateway.routing import upstreams_of
from ucap_gateway.sheet_rows import programme_csv, programme_xlsx, status_csv, status_xlsx
from ucap_gateway.spreadsheets import CSV_MEDIA, XLSX_MEDIA, attachment
from ucap_shared.api_docs import VALIDATION_ERROR_REF, error_response
from ucap_shared.errors import invalid_input

router = APIRouter(tags=["status"])


class Format(StrEnum):
    JSON = "json"
    MARKDOWN = "md"
    HTML = "html"
    CSV = "csv"
    XLSX = "xlsx"


FormatQuery = Annotated[
    Format | None,
    Query(
        alias="format",
        description="json, md, html, csv or xlsx; otherwise the Accept header decides",
    ),
]
AsOfQuery = Annotated[
    date | None,
    Query(
        description="The U-CAP as it stood on that day in the cooperation's own time, by the "
        "dates the facts carry (YYYY-MM-DD)"
    ),
]
RecordedAsOfQuery = Annotated[
    date | None,
    Query(
        description="The status as the system had recorded it by the end of that day "
        "(YYYY-MM-DD); not with `as_of`"
    ),
]
MEDIA = {
    Format.JSON: "application/json",
    Format.MARKDOWN: "text/markdown",
    Format.HTML: "text/html",
    Format.CSV: CSV_MEDIA,
    Format.XLSX: XLSX_MEDIA,
}
# Spreadsheets (README, "Spreadsheets"): a U-CAP's pilots, the programme's U-CAPs.
STATUS_SHEETS = {Format.CSV: status_csv, Format.XLSX: status_xlsx}
PROGRAMME_SHEETS = {Format.CSV: programme_csv, Format.XLSX: programme_xlsx}
SHEET_CONTENT: dict[str, Any] = {"text/csv": {}, XLSX_MEDIA: {}}


def negotiate(request: Request, asked: Format | None) -> Format:
    if asked is not None:
        return asked
    accept = request.headers.get("accept", "")
    for media, format_ in (
        ("text/html", Format.HTML),
        ("text/markdown", Format.MARKDOWN),
        (CSV_MEDIA, Format.CSV),
        (XLSX_MEDIA, Format.XLSX),
    ):
        if media in accept:
            return format_
    return Format.JSON


def settings_of(request: Request) -> Settings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, Settings)
    return settings


async def _compiled(request: Request, ucap_id: str, as_of: date, axis: Axis) -> CompiledStatus:
    return await compile_status(
        upstreams_of(request),
        ucap_id,
        as_of=as_of,
        axis=axis,
        timeout=settings_of(request).status_part_timeout_seconds,
    )


def both_days_given() -> JSONResponse:
    return invalid_input(
        [
            {
                "loc": ["query", "recorded_as_of"],
                "msg": "give as_of (the cooperation's time) or recorded_as_of (what was "
                "recorded by then), not both",
                "type": "value_error",
            }
        ]
    )


def reporting_down(error: ReportingUnavailableError) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={
            "error": "status_unavailable",
            "detail": f"the reporting service, which holds the U-CAP status, is "
            f"unavailable: {error.reason}",
            "service": "reporting",
        },
        headers={"Retry-After": "5"},
    )


def passed_on(error: UpstreamAnswerError) -> Response:
    return Response(
        content=error.response.content,
        status_code=error.response.status_code,
        media_type=error.response.headers.get("content-type"),
    )


def failed(error: Exception) -> Response:
    """The answer for a kept compile that failed."""
    if isinstance(error, UpstreamAnswerError):
        return passed_on(error)
    if isinstance(error, ReportingUnavailableError):
        return reporting_down(error)
    return reporting_down(ReportingUnavailableError(f"{type(error).__name__}: {error}"))


def status_keeper_of(request: Request) -> Keeper[str, CompiledStatus]:
    keeper: Keeper[str, CompiledStatus] = request.app.state.status_keeper
    return keeper


def programme_keeper_of(request: Request) -> Keeper[ProgrammeKey, Document]:
    keeper: Keeper[ProgrammeKey, Document] = request.app.state.programme_keeper
    return keeper


def tagged(chosen: Format, etag: str) -> str:
    return f'W/"{chosen.value}-{etag.strip(chr(34))}"'


def prerendered(compiled: CompiledStatus) -> dict[Hashable, bytes]:
    """The renderings that depend on nothing of the request, made with each compile."""
    return {
        Format.JSON: compiled.model_dump_json().encode(),
        Format.MARKDOWN: markdown(compiled).encode(),
    }


def _rendered(snapshot: Snapshot[CompiledStatus], chosen: Format, live: str | None) -> bytes:
    if chosen is Format.MARKDOWN:
        return snapshot.rendered(chosen, lambda c: markdown(c).encode())
    if chosen is Format.HTML:
        return snapshot.rendered((chosen, live), lambda c: html(c, live_url=live).encode())
    if chosen in STATUS_SHEETS:
        return snapshot.rendered(chosen, STATUS_SHEETS[chosen])
    return snapshot.rendered(chosen, lambda c: c.model_dump_json().encode())


def _sheet_named(chosen: Format, stem: str) -> dict[str, str]:
    """A spreadsheet's file name (Content-Disposition); nothing for the other formats."""
    return attachment(stem, chosen.value) if chosen in STATUS_SHEETS else {}


def _status_stem(compiled: CompiledStatus) -> str:
    return f"{compiled.ucap_id}-status-{compiled.as_of or compiled.status.on}"


@router.get(
    "/ucaps/{ucap_id}/status",
    summary="The live U-CAP status, compiled from every service",
    description="Kept compiled by each gateway replica and compiled again when an event "
    "touches it, and every few seconds while it is read: see the README, "
    "'The compiled status'.",
    response_model=CompiledStatus,
    responses={
        200: {
            "content": {"text/markdown": {}, "text/html": {}, **SHEET_CONTENT},
            "description": "JSON, Markdown, HTML, CSV or XLSX (`?format=` or the Accept "
            "header); CSV and XLSX: one row per pilot (README, 'Spreadsheets')",
        },
        304: {"description": "Unchanged since the ETag given in If-None-Match"},
        422: error_response(
            "A bad day, or both `as_of` and `recorded_as_of`", VALIDATION_ERROR_REF
        ),
        503: {"description": "The reporting service is unavailable"},
    },
)
async def ucap_status(
    ucap_id: str,
    request: Request,
    format_: FormatQuery = None,
    as_of: AsOfQuery = None,
    recorded_as_of: RecordedAsOfQuery = None,
) -> Response:
    chosen = negotiate(request, format_)
    if as_of is not None and recorded_as_of is not None:
        return both_days_given()
    if as_of is not None:
        return await _status_as_of(request, ucap_id, as_of, Axis.COOPERATION, chosen)
    if recorded_as_of is not None:
        return await _status_as_of(request, ucap_id, recorded_as_of, Axis.RECORDED, chosen)
    snapshot = await status_keeper_of(request).get(ucap_id)
    if snapshot.value is None or snapshot.etag is None:
        assert snapshot.error is not None
        return failed(snapshot.error)
    etag = tagged(chosen, snapshot.etag)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    # Only the page links its live feed; url_for walks every route, so not for the rest.
    live = (
        str(request.url_for("ucap_live", ucap_id=ucap_id).path) if chosen is Format.HTML else None
    )
    body = _rendered(snapshot, chosen, live)
    headers |= _sheet_named(chosen, _status_stem(snapshot.value))
    return Response(body, media_type=MEDIA[chosen], headers=headers)


async def _status_as_of(
    request: Request, ucap_id: str, as_of: date, axis: Axis, chosen: Format
) -> Response:
    try:
        compiled = await _compiled(request, ucap_id, as_of, axis)
    except ReportingUnavailableError as error:
        return reporting_down(error)
    except UpstreamAnswerError as error:
        return passed_on(error)
    etag = tagged(chosen, compiled.etag())
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if chosen is Format.MARKDOWN:
        return Response(markdown(compiled), media_type=MEDIA[chosen], headers=headers)
    if chosen is Format.HTML:
        return HTMLResponse(html(compiled, live_url=None), headers=headers)
    if chosen in STATUS_SHEETS:
        headers |= _sheet_named(chosen, _status_stem(compiled))
        return Response(STATUS_SHEETS[chosen](compiled), media_type=MEDIA[chosen], headers=headers)
    return Response(compiled.model_dump_json(), media_type=MEDIA[chosen], headers=headers)


async def feed_slot(request: Request) -> AsyncIterator[str]:
    """Admit one more live feed for the caller's key (429 beyond the bounds) until it ends."""
    gate: FeedGate = request.app.state.feed_gate
    key_id: str = request.state.key_id
    gate.admit(key_id)
    try:
        yield key_id
    finally:
        gate.release(key_id)


FeedSlot = Annotated[str, Depends(feed_slot)]
LIVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}},
    429: {"description": "Too many live feeds open for this API key, or in all"},
}


def feed_gate_of(request: Request) -> FeedGate:
    gate: FeedGate = request.app.state.feed_gate
    return gate


@router.get(
    "/ucaps/{ucap_id}/live",
    summary="Server-sent events: the U-CAP's status, pushed whenever it changes",
    description="An `event: status` with the status JSON now and after each change (its id "
    "the ETag), a `: ping` comment every 15 s, and an `event: end` before the feed closes "
    "because its API key was revoked.",
    response_class=StreamingResponse,
    responses=LIVE_RESPONSES,
)
async def ucap_live(ucap_id: str, request: Request, key_id: FeedSlot) -> StreamingResponse:
    keeper, gate = status_keeper_of(request), feed_gate_of(request)
    return _feed(follow(keeper, ucap_id, _status_json, gate=gate, key_id=key_id))


def _feed(frames: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _status_json(snapshot: Snapshot[CompiledStatus]) -> str:
    return _rendered(snapshot, Format.JSON, None).decode()


ClusterQuery = Annotated[str | None, Query(max_length=100)]
ThemeQuery = Annotated[str | None, Query(max_length=200)]
SdgQuery = Annotated[int | None, Query(ge=1, le=17)]
CountryQuery = Annotated[str | None, Query(min_length=2, max_length=2)]


def programme_filters(
    cluster: ClusterQuery = None,
    theme: ThemeQuery = None,
    sdg: SdgQuery = None,
    country: CountryQuery = None,
) -> dict[str, str]:
    """The programme's filters that were given, as query parameters for reporting."""
    given = {"cluster": cluster, "theme": theme, "sdg": sdg, "country": country}
    return {name: str(value) for name, value in given.items() if value}


ProgrammeFilters = Annotated[dict[str, str], Depends(programme_filters)]


@router.get(
    "/programme/status",
    summary="Every U-CAP with its figures and attention flags, and counts by cluster, theme, "
    "SDG and country",
    responses={
        200: {
            "content": {"text/markdown": {}, "text/html": {}, **SHEET_CONTENT},
            "description": "CSV and XLSX: one row per U-CAP (README, 'Spreadsheets')",
        }
    },
)
async def programme_status(
    request: Request, filters: ProgrammeFilters, format_: FormatQuery = None
) -> Response:
    snapshot = await programme_keeper_of(request).get(_programme_key(filters))
    if snapshot.value is None or snapshot.etag is None:
        assert snapshot.error is not None
        return failed(snapshot.error)
    chosen = negotiate(request, format_)
    etag = tagged(chosen, snapshot.etag)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if chosen is Format.MARKDOWN:
        body = snapshot.rendered(chosen, lambda p: programme_markdown(p).encode())
    elif chosen is Format.HTML:
        live = request.url_for("programme_live").path + (f"?{_query(filters)}" if filters else "")
        body = snapshot.rendered(
            (chosen, live), lambda p: programme_html(p, live_url=live).encode()
        )
    elif chosen in PROGRAMME_SHEETS:
        body = snapshot.rendered(chosen, PROGRAMME_SHEETS[chosen])
        headers |= _sheet_named(chosen, f"programme-status-{snapshot.value.get('on', '')}")
    else:
        body = snapshot.rendered(chosen, _programme_json)
    return Response(body, media_type=MEDIA[chosen], headers=headers)


def _programme_key(filters: dict[str, str]) -> ProgrammeKey:
    return tuple(sorted(filters.items()))


@router.get(
    "/programme/live",
    summary="Server-sent events: the programme status, pushed whenever it changes",
    description="As `/ucaps/{ucap_id}/live`, for the programme page with these filters.",
    response_class=StreamingResponse,
    responses=LIVE_RESPONSES,
)
async def programme_live(
    request: Request, filters: ProgrammeFilters, key_id: FeedSlot
) -> StreamingResponse:
    keeper, key = programme_keeper_of(request), _programme_key(filters)
    gate = feed_gate_of(request)
    return _feed(follow(keeper, key, _programme_feed_json, gate=gate, key_id=key_id))


def _programme_feed_json(snapshot: Snapshot[Document]) -> str:
    return snapshot.rendered(Format.JSON, _programme_json).decode()


def _programme_json(programme: Document) -> bytes:
    return json.dumps(programme).encode()


def _query(values: dict[str, str]) -> httpx.QueryParams:
    return httpx.QueryParams(values)
