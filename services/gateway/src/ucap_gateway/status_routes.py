"""The gateway's own routes: the compiled U-CAP status, the programme, and their live feeds."""

import json
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from ucap_gateway.compose import (
    CompiledStatus,
    ReportingUnavailableError,
    UpstreamAnswerError,
    compile_status,
)
from ucap_gateway.config import Settings
from ucap_gateway.live import ChangeSignal, status_stream
from ucap_gateway.programme import programme_etag, programme_html, programme_markdown
from ucap_gateway.render import html, markdown
from ucap_gateway.routing import upstreams_of
from ucap_gateway.upstreams import UpstreamUnavailableError, unavailable_response

router = APIRouter(tags=["status"])


class Format(StrEnum):
    JSON = "json"
    MARKDOWN = "md"
    HTML = "html"


FormatQuery = Annotated[
    Format | None,
    Query(alias="format", description="json, md or html; otherwise the Accept header decides"),
]
AsOfQuery = Annotated[
    date | None, Query(description="The status as it stood at the end of that day (YYYY-MM-DD)")
]
MEDIA = {
    Format.JSON: "application/json",
    Format.MARKDOWN: "text/markdown",
    Format.HTML: "text/html",
}


def negotiate(request: Request, asked: Format | None) -> Format:
    if asked is not None:
        return asked
    accept = request.headers.get("accept", "")
    for media, format_ in (("text/html", Format.HTML), ("text/markdown", Format.MARKDOWN)):
        if media in accept:
            return format_
    return Format.JSON


def settings_of(request: Request) -> Settings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, Settings)
    return settings


async def _compiled(request: Request, ucap_id: str, as_of: date | None) -> CompiledStatus:
    return await compile_status(
        upstreams_of(request),
        ucap_id,
        as_of=as_of,
        timeout=settings_of(request).status_part_timeout_seconds,
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


@router.get(
    "/ucaps/{ucap_id}/status",
    summary="The live U-CAP status, compiled from every service",
    response_model=CompiledStatus,
    responses={
        200: {
            "content": {"text/markdown": {}, "text/html": {}},
            "description": "JSON, Markdown or HTML (`?format=` or the Accept header)",
        },
        304: {"description": "Unchanged since the ETag given in If-None-Match"},
        503: {"description": "The reporting service is unavailable"},
    },
)
async def ucap_status(
    ucap_id: str, request: Request, format_: FormatQuery = None, as_of: AsOfQuery = None
) -> Response:
    try:
        compiled = await _compiled(request, ucap_id, as_of)
    except ReportingUnavailableError as error:
        return reporting_down(error)
    except UpstreamAnswerError as error:
        return passed_on(error)
    chosen = negotiate(request, format_)
    etag = compiled.etag()
    tagged = f'W/"{chosen.value}-{etag.strip(chr(34))}"'
    headers = {"ETag": tagged, "Cache-Control": "no-cache", "Vary": "Accept"}
    if request.headers.get("if-none-match") == tagged:
        return Response(status_code=304, headers=headers)
    if chosen is Format.MARKDOWN:
        body = markdown(compiled)
    elif chosen is Format.HTML:
        live = None if as_of else str(request.url_for("ucap_live", ucap_id=ucap_id).path)
        return HTMLResponse(html(compiled, live_url=live), headers=headers)
    else:
        body = compiled.model_dump_json()
    return Response(body, media_type=MEDIA[chosen], headers=headers)


@router.get(
    "/ucaps/{ucap_id}/live",
    summary="Server-sent events: the U-CAP's status, pushed whenever it changes",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def ucap_live(ucap_id: str, request: Request) -> Response:
    try:
        first = await _compiled(request, ucap_id, None)
    except ReportingUnavailableError as error:
        return reporting_down(error)
    except UpstreamAnswerError as error:
        return passed_on(error)
    signal: ChangeSignal = request.app.state.live_signal
    seed = [first]

    async def current() -> tuple[str, str]:
        compiled = seed.pop() if seed else await _compiled(request, ucap_id, None)
        return compiled.etag(), compiled.model_dump_json()

    return StreamingResponse(
        status_stream(signal, current, disconnected=request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


ClusterQuery = Annotated[str | None, Query(max_length=100)]
ThemeQuery = Annotated[str | None, Query(max_length=200)]
SdgQuery = Annotated[int | None, Query(ge=1, le=17)]
CountryQuery = Annotated[str | None, Query(min_length=2, max_length=2)]


async def _programme(request: Request, filters: dict[str, str]) -> dict[str, Any] | Response:
    """The reporting service's programme status (a dict), or the answer to pass on instead."""
    try:
        answer = await upstreams_of(request).request(
            "reporting", "GET", "/programme/status", params=_query(filters)
        )
    except UpstreamUnavailableError as error:
        return unavailable_response(error)
    if answer.status_code != 200:
        return Response(
            answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
        )
    programme: dict[str, Any] = answer.json()
    return programme


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
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
)
async def programme_status(
    request: Request, filters: ProgrammeFilters, format_: FormatQuery = None
) -> Response:
    programme = await _programme(request, filters)
    if isinstance(programme, Response):
        return programme
    chosen = negotiate(request, format_)
    headers = {"Cache-Control": "no-cache", "Vary": "Accept"}
    if chosen is Format.MARKDOWN:
        return Response(programme_markdown(programme), media_type=MEDIA[chosen], headers=headers)
    if chosen is Format.HTML:
        live = request.url_for("programme_live").path + (f"?{_query(filters)}" if filters else "")
        return HTMLResponse(programme_html(programme, live_url=live), headers=headers)
    return Response(json.dumps(programme), media_type=MEDIA[Format.JSON], headers=headers)


@router.get(
    "/programme/live",
    summary="Server-sent events: the programme status, pushed whenever it changes",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def programme_live(request: Request, filters: ProgrammeFilters) -> Response:
    first = await _programme(request, filters)
    if isinstance(first, Response):
        return first
    seed, latest = [first], [first]

    async def current() -> tuple[str, str]:
        programme = seed.pop() if seed else await _programme(request, filters)
        # While reporting is away there is nothing new to say: the last known one stands.
        if not isinstance(programme, Response):
            latest[0] = programme
        return programme_etag(latest[0]), json.dumps(latest[0])

    signal: ChangeSignal = request.app.state.live_signal
    return StreamingResponse(
        status_stream(signal, current, disconnected=request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _query(values: dict[str, str]) -> httpx.QueryParams:
    return httpx.QueryParams(values)
