"""What the IATI document is compiled from, fetched as the gateway itself (a reader).

The U-CAPs come from reporting's programme status (with the programme's filters), each
U-CAP's cities from reporting, its pilots from the pilots service (every page; only
those led by one of the U-CAP's cities, as its status shows them), and the cities'
names and countries from the cities service. Kept like the programme page: compiled
once, again after every event and every refresh, and served to everyone.
"""

import asyncio
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import quote

from ucap_gateway.compose import (
    ReportingUnavailableError,
    UpstreamAnswerError,
    every_page,
    fetched_json,
    led_from,
)
from ucap_gateway.iati import Document, IatiDocument, IatiSources, Publisher, UcapPilots
from ucap_gateway.iati import activities_document as built
from ucap_gateway.kept import Keeper
from ucap_gateway.kept_answers import ProgrammeKey, as_gateway, compile_programme
from ucap_gateway.upstreams import Upstreams, UpstreamUnavailableError

T = TypeVar("T")
CONCURRENT_FETCHES = 8


class IatiSourceUnavailableError(Exception):
    """A service the document needs did not answer: no document rather than a partial one."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


async def _bounded(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Every call's answer, at most ``CONCURRENT_FETCHES`` of them under way at once."""
    gate = asyncio.Semaphore(CONCURRENT_FETCHES)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


async def iati_sources(upstreams: Upstreams, filters: ProgrammeKey, timeout: float) -> IatiSources:
    try:
        programme = await compile_programme(upstreams, filters)
    except ReportingUnavailableError as error:
        raise IatiSourceUnavailableError("reporting", error.reason) from error
    try:
        ucaps = await _bounded(
            _ucap_pilots(upstreams, row["ucap_id"], timeout) for row in programme.get("ucaps", [])
        )
        named = {
            city_id for ucap in ucaps for city_id in (ucap.lead_city_id, *ucap.counterpart_city_ids)
        } | {
            partner["city_id"]
            for ucap in ucaps
            for pilot in ucap.pilots
            for partner in pilot.get("partners", [])
        }
        found = await _bounded(_city(upstreams, city_id, timeout) for city_id in sorted(named))
    except UpstreamUnavailableError as error:
        raise IatiSourceUnavailableError(error.service, error.reason) from error
    return IatiSources(ucaps=ucaps, cities={city["id"]: city for city in found if city})


async def _ucap_pilots(upstreams: Upstreams, ucap_id: str, timeout: float) -> UcapPilots:
    ucap = await fetched_json(upstreams, "reporting", f"/ucaps/{quote(ucap_id, safe='')}", timeout)
    cities = [ucap["lead_city_id"], *ucap.get("counterpart_city_ids", [])]
    pilots = await every_page(upstreams, "pilots", "/pilots", timeout, ucap=ucap_id)
    return UcapPilots(
        ucap_id=ucap_id,
        lead_city_id=ucap["lead_city_id"],
        counterpart_city_ids=cities[1:],
        pilots=list(led_from(pilots, cities).values()),
    )


async def _city(upstreams: Upstreams, city_id: str, timeout: float) -> Document | None:
    """The city, or None when the cities service knows no such city (yet)."""
    answer = await upstreams.request(
        "cities", "GET", f"/cities/{quote(city_id, safe='')}", timeout=timeout
    )
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise UpstreamUnavailableError(
            "cities", f"answered {answer.status_code} to /cities/{city_id}", timed_out=False
        )
    city: Document = answer.json()
    return city


def iati_keeper(
    upstreams: Upstreams,
    publisher: Publisher,
    *,
    part_timeout: float,
    refresh_seconds: float,
    capacity: int,
) -> Keeper[ProgrammeKey, IatiDocument]:
    """Every event may touch the document: it holds every pilot of the programme."""

    async def compile_(filters: ProgrammeKey) -> IatiDocument:
        as_gateway()
        sources = await iati_sources(upstreams, filters, part_timeout)
        now = datetime.now(UTC)
        return await asyncio.to_thread(built, sources, publisher, today=now.date(), now=now)

    return Keeper(
        compile_,
        etag_of=lambda document: document.etag,
        refresh_seconds=refresh_seconds,
        capacity=capacity,
        kept_errors=(IatiSourceUnavailableError, UpstreamAnswerError),
    )
