"""``GET /pilots`` as a spreadsheet: every page of the pilots service's list, streamed out.

Asked as CSV or XLSX (``?format=`` or the Accept header), the gateway asks the
pilots service for the list with the caller's filters, as the caller, and
follows ``next_cursor`` page by page, never holding more than a page:

- CSV: the header and the first page's rows go out once the first page has
  come (an answer of the service other than 200 before that is passed on as
  it is); each further page's rows follow as it comes. A page that fails
  later breaks the answer off (the connection closes before the chunked body
  ends), so a cut list never passes for a whole one.
- XLSX: rows go to openpyxl's write-only workbook (a temporary file) page by
  page; the workbook is sent, from a temporary file, once the last page has
  come, so any failure is still an error answer.

Otherwise (JSON) the request is forwarded as any other.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from ucap_gateway.compose import UpstreamAnswerError, parsed
from ucap_gateway.routing import forwarded_index, upstreams_of
from ucap_gateway.sheet_rows import PILOTS, pilot_rows
from ucap_gateway.spreadsheets import (
    CSV_MEDIA,
    XLSX_MEDIA,
    XlsxBook,
    attachment,
    chunks_of,
    csv_header,
    csv_rows,
    saved,
)
from ucap_gateway.status_routes import passed_on
from ucap_gateway.upstreams import Upstreams, UpstreamUnavailableError, unavailable_response
from ucap_shared.endpoints import raw_path_of, refusal

log = logging.getLogger(__name__)
router = APIRouter()
Document = dict[str, Any]
PAGE_SIZE = "200"


class ListFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class ListBrokenOffError(Exception):
    """A page after the first failed once the CSV answer had begun."""


def spreadsheet_asked(request: Request, asked: ListFormat | None) -> ListFormat:
    if asked is not None:
        return asked
    accept = request.headers.get("accept", "")
    for media, format_ in ((CSV_MEDIA, ListFormat.CSV), (XLSX_MEDIA, ListFormat.XLSX)):
        if media in accept:
            return format_
    return ListFormat.JSON


class PilotPages:
    """The pilots service's list with the caller's query, page by page."""

    def __init__(self, upstreams: Upstreams, request: Request) -> None:
        query = httpx.QueryParams(
            [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
        )
        self._upstreams = upstreams
        self._query = query if "limit" in query else query.set("limit", PAGE_SIZE)

    async def page(self, cursor: str | None) -> Document:
        """UpstreamUnavailableError or UpstreamAnswerError when it does not come."""
        query = self._query if cursor is None else self._query.set("cursor", cursor)
        answer = await self._upstreams.request("pilots", "GET", "/pilots", params=query)
        if answer.status_code != 200:
            raise UpstreamAnswerError(answer)
        return await parsed(answer)

    async def after(self, first: Document) -> AsyncIterator[list[Document]]:
        """The items of ``first``, then of each page after it."""
        page = first
        while True:
            yield page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
            page = await self.page(cursor)


@router.get("/pilots", include_in_schema=False)
async def pilots_list(
    request: Request,
    format_: Annotated[ListFormat | None, Query(alias="format")] = None,
) -> Response:
    # As the forwarder does: the path as sent (``/pilot%73`` is no path of the API).
    matching = forwarded_index(request.app).matching(raw_path_of(request.scope).partition("?")[0])
    if (refused := refusal(matching, request.method)) is not None:
        return refused
    chosen = spreadsheet_asked(request, format_)
    upstreams = upstreams_of(request)
    if chosen is ListFormat.JSON:
        return await upstreams.forward("pilots", request, request.url.path)
    pages = PilotPages(upstreams, request)
    stem = f"pilots-{datetime.now(UTC).date().isoformat()}"
    try:
        first = await pages.page(None)
        if chosen is ListFormat.CSV:
            return StreamingResponse(
                _csv(pages.after(first)),
                media_type=CSV_MEDIA,
                headers=attachment(stem, "csv"),
            )
        workbook = await _xlsx(pages.after(first))
    except UpstreamUnavailableError as error:
        return unavailable_response(error)
    except UpstreamAnswerError as error:
        return passed_on(error)
    size = workbook.seek(0, 2)
    workbook.seek(0)
    return StreamingResponse(
        chunks_of(workbook),  # a plain iterator: Starlette reads it in a worker thread
        media_type=XLSX_MEDIA,
        headers={**attachment(stem, "xlsx"), "Content-Length": str(size)},
    )


async def _csv(pages: AsyncIterator[list[Document]]) -> AsyncIterator[bytes]:
    yield csv_header(PILOTS.names)
    try:
        async for items in pages:
            yield csv_rows(pilot_rows(items))
    except (UpstreamUnavailableError, UpstreamAnswerError) as error:
        log.warning("pilots list broken off", extra={"error": str(error)})
        raise ListBrokenOffError(str(error)) from error


async def _xlsx(pages: AsyncIterator[list[Document]]) -> IO[bytes]:
    book = XlsxBook()
    sheet = book.sheet("pilots", PILOTS.names)
    try:
        async for items in pages:
            book.append(sheet, pilot_rows(items))
    except BaseException:
        book.discard()
        raise
    # Compressing a large workbook would stall every other request meanwhile.
    return await asyncio.to_thread(saved, book)
