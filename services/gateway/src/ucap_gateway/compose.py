"""The live U-CAP status: the reporting service's status view plus what the others own.

Reporting's view is the backbone; without it there is no status (503). The
detail the other services own (pilot descriptions and roles, MoU subjects,
cities' stakeholders) is fetched concurrently, each part with its own
deadline; a part that does not come is marked unavailable, with why, and the
status still comes back.

A status as of a past day (``as_of``: the cooperation's own time; ``recorded_as_of``:
what the system had recorded by then) is reporting's alone: every part of it stands
on that axis and day, so the other services' documents of today are not fetched; the
details are those the as-of status holds.
"""

import asyncio
import hashlib
import json
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, ValidationError

from ucap_gateway.reported import ReportedStatus
from ucap_gateway.upstreams import Upstreams, UpstreamUnavailableError

Document = dict[str, Any]
PAGE = "200"
MAX_PAGES = 100


class Axis(StrEnum):
    LIVE = "live"
    COOPERATION = "cooperation"
    RECORDED = "recorded"


AXIS_PARAMETERS = {Axis.COOPERATION: "as_of", Axis.RECORDED: "recorded_as_of"}


class Part(BaseModel):
    available: bool
    reason: str | None = Field(default=None, description="Why the part is missing")


class Details(BaseModel):
    pilots: dict[str, Document] = Field(
        default_factory=dict, description="Each pilot as the pilots service has it, by id"
    )
    mous: dict[str, Document] = Field(
        default_factory=dict, description="Each MoU as the MoUs service has it, by id"
    )
    cities: dict[str, Document] = Field(
        default_factory=dict, description="Lead and counterpart cities, with their stakeholders"
    )


class CompiledStatus(BaseModel):
    """The live status of one U-CAP, compiled from every service."""

    ucap_id: str = Field(examples=["granada-ucap"])
    as_of: date | None = Field(description="The day asked for; null: now")
    axis: Axis = Field(
        default=Axis.LIVE,
        description="live (now), cooperation (`as_of`: by the dates the facts carry) or "
        "recorded (`recorded_as_of`: what the system had recorded by the end of that day); "
        "every part of the answer stands on this axis and day",
    )
    compiled_at: datetime
    status: ReportedStatus = Field(
        description="The reporting service's U-CAP status (see `reporting_UcapStatus`): "
        "header, themes, SDGs, challenges, objectives, timeline, MoUs and pilots by "
        "counterpart city, figures, attention flags, freshness per source"
    )
    details: Details
    parts: dict[str, Part] = Field(
        description="For reporting, pilots, mous and cities: whether that part came"
    )

    def etag(self) -> str:
        """Changes when the content changes; not when only the clocks move."""
        content = self.model_dump(mode="json", exclude={"compiled_at"})
        content["status"] = {k: v for k, v in content["status"].items() if k != "freshness"}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        return f'"{digest[:32]}"'


class ReportingUnavailableError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UpstreamAnswerError(Exception):
    """The reporting service answered with an error that the caller should see as is."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"reporting answered {response.status_code}")
        self.response = response


async def fetched_json(
    upstreams: Upstreams, service: str, path: str, timeout: float, **params: str
) -> Document:
    answer = await upstreams.request(
        service, "GET", path, params=httpx.QueryParams(params), timeout=timeout
    )
    if answer.status_code != 200:
        raise UpstreamUnavailableError(
            service, f"answered {answer.status_code} to {path}", timed_out=False
        )
    return await parsed(answer)


async def parsed(answer: httpx.Response) -> Document:
    """The JSON body, parsed in a worker thread: a large one would stall every request."""
    body: Document = await asyncio.to_thread(json.loads, answer.content)
    return body


async def every_page(
    upstreams: Upstreams, service: str, path: str, timeout: float, **params: str
) -> dict[str, Document]:
    """Every item of a paged list, by id, following ``next_cursor`` to the last page."""
    items: dict[str, Document] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await fetched_json(
            upstreams,
            service,
            path,
            timeout,
            **params,
            limit=PAGE,
            **({"cursor": cursor} if cursor else {}),
        )
        items.update((item["id"], item) for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items
    raise UpstreamUnavailableError(
        service, f"more than {MAX_PAGES} pages of {path}", timed_out=False
    )


def led_from(pilots: dict[str, Document], city_ids: list[str]) -> dict[str, Document]:
    """The pilots led by one of the U-CAP's cities: reporting's status shows no other (a
    pilot naming a U-CAP its lead has no part in is no pilot of that U-CAP)."""
    cities = set(city_ids)
    return {pilot_id: p for pilot_id, p in pilots.items() if p.get("lead_city_id") in cities}


def subjects(ucap_id: str, compiled: "CompiledStatus | None") -> frozenset[str]:
    """The ids whose events can change this status: the U-CAP, its cities, pilots and MoUs."""
    if compiled is None:
        return frozenset({ucap_id})
    ucap = compiled.status.ucap
    return frozenset(
        {
            ucap_id,
            ucap.lead_city_id,
            *ucap.counterpart_city_ids,
            *compiled.details.pilots,
            *compiled.details.mous,
            *compiled.details.cities,
        }
    )


PARTS = ("pilots", "mous", "cities")
PARTS_OF_KIND = {
    "pilot": frozenset({"pilots"}),
    "mou": frozenset({"mous"}),
    "city": frozenset({"cities"}),
}
"""The parts an event of each kind of stream can change; any other kind (a U-CAP's own
event) can change them all."""


KIND_OF_PART = {part: kind for kind, parts in PARTS_OF_KIND.items() for part in parts}


async def _answering_otherwise(
    upstreams: Upstreams, kept: CompiledStatus, timeout: float
) -> list[str]:
    """The parts whose service now answers otherwise than when ``kept`` was compiled (gone
    since, or back): fetched again, so an outage shows within a refresh."""
    answering = await asyncio.gather(*(upstreams.answers(name, timeout=timeout) for name in PARTS))
    return [
        name
        for name, answers in zip(PARTS, answering, strict=True)
        if answers != kept.parts[name].available
    ]


def parts_changed_by(kinds: frozenset[str]) -> frozenset[str]:
    changed: set[str] = set()
    for kind in kinds:
        changed |= PARTS_OF_KIND.get(kind, frozenset(PARTS))
    return frozenset(changed)


async def compile_status(
    upstreams: Upstreams,
    ucap_id: str,
    *,
    as_of: date | None,
    timeout: float,
    axis: Axis = Axis.COOPERATION,
) -> CompiledStatus:
    """The status now (``as_of`` None), or as of that day on ``axis``."""
    if as_of is not None:
        return await _compiled_as_of(upstreams, ucap_id, as_of, axis, timeout)
    return await _compiled(upstreams, ucap_id, as_of=None, timeout=timeout, kept=None)


async def _reported(
    upstreams: Upstreams,
    ucap_id: str,
    params: dict[str, str],
    timeout: float,
    *,
    known: ReportedStatus | None = None,
) -> ReportedStatus:
    """Reporting's status; ``known`` itself when reporting says (304) it is unchanged."""
    asked = [(b"if-none-match", known.etag.encode())] if known and known.etag else []
    try:
        answer = await upstreams.request(
            "reporting",
            "GET",
            f"/ucaps/{quote(ucap_id, safe='')}/status",
            params=httpx.QueryParams(params),
            headers=asked,
            timeout=timeout * 3,
        )
    except UpstreamUnavailableError as error:
        raise ReportingUnavailableError(error.reason) from error
    if answer.status_code == 304 and known is not None and asked:
        return known
    if answer.status_code >= 500:
        raise ReportingUnavailableError(f"answered {answer.status_code}")
    if answer.status_code != 200:
        raise UpstreamAnswerError(answer)
    try:
        status = await asyncio.to_thread(ReportedStatus.model_validate_json, answer.content)
    except ValidationError as error:
        raise ReportingUnavailableError(
            f"an answer outside the status contract: {error}"
        ) from error
    return status.tagged(answer.headers.get("etag"))


def details_held(status: ReportedStatus) -> Details:
    """The details an as-of status holds itself: its pilots, MoUs and cities, by id."""
    counterparts = status.counterparts
    pilots = [*status.other_pilots, *(p for c in counterparts for p in c.pilots)]
    mous = [m for c in counterparts for m in c.mous]
    cities = [status.lead_city, *(c.city for c in counterparts)]
    return Details(
        pilots={p.pilot_id: p.model_dump(mode="json") for p in pilots},
        mous={m.mou_id: m.model_dump(mode="json") for m in mous},
        cities={c.city_id: c.model_dump(mode="json") for c in cities},
    )


async def _compiled_as_of(
    upstreams: Upstreams, ucap_id: str, as_of: date, axis: Axis, timeout: float
) -> CompiledStatus:
    parameter = AXIS_PARAMETERS.get(axis, "as_of")
    status = await _reported(upstreams, ucap_id, {parameter: as_of.isoformat()}, timeout)
    held = Part(available=True, reason=None)
    return CompiledStatus(
        ucap_id=ucap_id,
        as_of=as_of,
        axis=Axis.RECORDED if parameter == "recorded_as_of" else Axis.COOPERATION,
        compiled_at=datetime.now(UTC),
        status=status,
        details=details_held(status),
        parts={name: held for name in ("reporting", *PARTS)},
    )


async def recompile_status(
    upstreams: Upstreams, kept: CompiledStatus, kinds: frozenset[str], *, timeout: float
) -> CompiledStatus:
    """``kept`` compiled again for events of these kinds of stream: reporting's status,
    and of the other parts only those such events can change (and those missing).

    Reporting is asked whether its status changed (its ETag); with no kinds (a refresh
    that no event asked for), ``kept`` itself when it did not, and every part fetched
    again when it did (a change the gateway saw no event of).
    """
    return await _compiled(
        upstreams, kept.ucap_id, as_of=kept.as_of, timeout=timeout, kept=(kept, kinds)
    )


def _reusable(
    kept: tuple[CompiledStatus, frozenset[str]] | None, status: ReportedStatus
) -> dict[str, dict[str, Document]]:
    """The parts of the kept compile that the events since cannot have changed."""
    if kept is None or not kept[1]:
        return {}
    previous, kinds = kept
    before, now = previous.status.ucap, status.ucap
    if (before.lead_city_id, before.counterpart_city_ids) != (
        now.lead_city_id,
        now.counterpart_city_ids,
    ):
        return {}  # other cities: other pilots, MoUs and cities
    changed = parts_changed_by(kinds)
    return {
        name: getattr(previous.details, name)
        for name in PARTS
        if name not in changed and previous.parts[name].available
    }


async def _compiled(
    upstreams: Upstreams,
    ucap_id: str,
    *,
    as_of: date | None,
    timeout: float,
    kept: tuple[CompiledStatus, frozenset[str]] | None,
) -> CompiledStatus:
    params = {"as_of": as_of.isoformat()} if as_of else {}
    known = kept[0].status if kept is not None else None
    status = await _reported(upstreams, ucap_id, params, timeout, known=known)
    if kept is not None and status is known and not kept[1]:
        changed = await _answering_otherwise(upstreams, kept[0], timeout)
        if not changed:
            return kept[0]
        kept = (kept[0], frozenset(KIND_OF_PART[name] for name in changed))
    lead = status.ucap.lead_city_id
    city_ids = [lead, *status.ucap.counterpart_city_ids]

    async def pilots() -> dict[str, Document]:
        found = await every_page(upstreams, "pilots", "/pilots", timeout, ucap=ucap_id)
        return led_from(found, city_ids)

    async def mous() -> dict[str, Document]:
        if not lead:
            return {}
        return await every_page(upstreams, "mous", "/mous", timeout, city=lead)

    async def cities() -> dict[str, Document]:
        found = await asyncio.gather(
            *(
                fetched_json(upstreams, "cities", f"/cities/{quote(city_id, safe='')}", timeout)
                for city_id in city_ids
            )
        )
        return {city["id"]: city for city in found}

    reused = _reusable(kept, status)
    fetches = {"pilots": pilots, "mous": mous, "cities": cities}
    names = [name for name in PARTS if name not in reused]
    results = await asyncio.gather(*(fetches[name]() for name in names), return_exceptions=True)
    details: dict[str, dict[str, Document]] = dict(reused)
    parts = {"reporting": Part(available=True), **{name: Part(available=True) for name in reused}}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, UpstreamUnavailableError):
            parts[name] = Part(available=False, reason=f"the {name} service: {result.reason}")
            details[name] = {}
        elif isinstance(result, BaseException):
            parts[name] = Part(available=False, reason=f"{type(result).__name__}: {result}")
            details[name] = {}
        else:
            parts[name] = Part(available=True)
            details[name] = result
    return CompiledStatus(
        ucap_id=ucap_id,
        as_of=as_of,
        compiled_at=datetime.now(UTC),
        status=status,
        details=Details.model_validate(details),
        parts={name: parts[name] for name in ("reporting", *PARTS)},
    )
