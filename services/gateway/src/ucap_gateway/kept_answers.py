"""The answers each gateway replica keeps: U-CAP statuses and programme pages.

Reads need no caller's rights beyond reading, so what is kept is compiled
once for everyone, as the gateway itself (a reader), never as the caller
whose request first asked for it.
"""

import asyncio
from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import quote

import httpx

from ucap_gateway.compose import (
    CompiledStatus,
    ReportingUnavailableError,
    UpstreamAnswerError,
    compile_status,
    parsed,
    recompile_status,
    subjects,
)
from ucap_gateway.kept import Keeper
from ucap_gateway.programme import programme_etag
from ucap_gateway.upstreams import Upstreams, UpstreamUnavailableError
from ucap_shared.auth import Principal, Role, current_principal
from ucap_shared.logs import correlation_id

Document = dict[str, Any]
ProgrammeKey = tuple[tuple[str, str], ...]
GATEWAY_READER = Principal(subject="ops:gateway", roles=frozenset({Role.READER}))
KEPT_ERRORS = (ReportingUnavailableError, UpstreamAnswerError)


def as_gateway() -> None:
    """In a keeper's own task: compile as the gateway, with no caller's correlation id."""
    current_principal.set(GATEWAY_READER)
    correlation_id.set(None)


def status_keeper(
    upstreams: Upstreams,
    *,
    part_timeout: float,
    refresh_seconds: float,
    whole_seconds: float | None = None,
    capacity: int,
    prerender: Callable[[CompiledStatus], dict[Hashable, bytes]] | None = None,
) -> Keeper[str, CompiledStatus]:
    async def compile_(ucap_id: str) -> CompiledStatus:
        as_gateway()
        return await compile_status(upstreams, ucap_id, as_of=None, timeout=part_timeout)

    async def recompile(_: str, kept: CompiledStatus, kinds: frozenset[str]) -> CompiledStatus:
        as_gateway()
        return await recompile_status(upstreams, kept, kinds, timeout=part_timeout)

    return Keeper(
        compile_,
        recompile=recompile,
        etag_of=CompiledStatus.etag,
        subjects_of=subjects,
        holds=lambda compiled, stream, sequence: compiled.status.holds(stream, sequence),
        prerender=prerender,
        refresh_seconds=refresh_seconds,
        whole_seconds=whole_seconds,
        capacity=capacity,
        kept_errors=KEPT_ERRORS,
    )


async def compile_programme(upstreams: Upstreams, filters: ProgrammeKey) -> Document:
    try:
        answer = await upstreams.request(
            "reporting", "GET", "/programme/status", params=httpx.QueryParams(dict(filters))
        )
    except UpstreamUnavailableError as error:
        raise ReportingUnavailableError(error.reason) from error
    if answer.status_code != 200:
        raise UpstreamAnswerError(answer)
    return await parsed(answer)


async def name_leads(upstreams: Upstreams, programme: Document, *, timeout: float) -> None:
    """Each U-CAP row's ``lead_city_name``, from the cities service; where it does not
    answer in time, the page shows the city's id."""
    rows = [row for row in programme.get("ucaps", []) if not row.get("lead_city_name")]
    leads = sorted({row["lead_city_id"] for row in rows if row.get("lead_city_id")})

    async def name_of(city_id: str) -> str | None:
        try:
            answer = await upstreams.request(
                "cities", "GET", f"/cities/{quote(city_id, safe='')}", timeout=timeout
            )
        except UpstreamUnavailableError:
            return None
        if answer.status_code != 200:
            return None
        name = (await parsed(answer)).get("name")
        return name if isinstance(name, str) else None

    names = dict(zip(leads, await asyncio.gather(*map(name_of, leads)), strict=True))
    for row in rows:
        if names.get(row.get("lead_city_id", "")):
            row["lead_city_name"] = names[row["lead_city_id"]]


def programme_keeper(
    upstreams: Upstreams,
    *,
    refresh_seconds: float,
    capacity: int,
    part_timeout: float = 2.0,
) -> Keeper[ProgrammeKey, Document]:
    """Every event touches the programme: it sums up every U-CAP."""

    async def compile_(filters: ProgrammeKey) -> Document:
        as_gateway()
        programme = await compile_programme(upstreams, filters)
        await name_leads(upstreams, programme, timeout=part_timeout)
        return programme

    return Keeper(
        compile_,
        etag_of=lambda programme: f'"{programme_etag(programme)}"',
        refresh_seconds=refresh_seconds,
        capacity=capacity,
        kept_errors=KEPT_ERRORS,
    )
