"""The MoUs service's views: ``mous_view`` (its own MoUs), ``cities_view`` and
``organisations_view`` (the cities service's organisations with no city).

``mous_view`` holds each MoU as folded from its events, plus the fields its
queries filter and sort on. The status is not stored: it depends on today's
date, so queries on it compare the stored dates with today.
"""

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from ucap_mous.domain import KnownCities, KnownOrganisations, MoU, Status, evolve
from ucap_mous.events import PUBLISHED_EVENTS, MouEvent
from ucap_shared.cursors import decode_cursor, encode_cursor
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.queries import all_of
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome, apply_event

MOUS_VIEW = "mous_view"
CITIES_VIEW = "cities_view"
ORGANISATIONS_VIEW = "organisations_view"
UNSIGNED = "~"
"""Sort key of a MoU not yet signed by all parties: after every date."""
SIGNED_UNDATED = "?"
"""Sort key of a MoU signed by all parties, on a date not known: after every date
(``?`` sorts after digits), before the unsigned."""

Database = AsyncDatabase[Document]


# --- projection -------------------------------------------------------------


def mou_document(mou: MoU) -> Document:
    signed_on, in_force_from = mou.signed_on, mou.in_force_from
    return {
        **mou.model_dump(mode="json"),
        "party_city_ids": mou.party_city_ids,
        "fully_signed": mou.fully_signed,
        "signed_on": signed_on.iso() if signed_on else None,
        "sort_key": _sort_key(mou),
        "in_force_from": in_force_from.isoformat() if in_force_from else None,
        "valid_until_end": mou.valid_until.last_day.isoformat() if mou.valid_until else None,
    }


def _sort_key(mou: MoU) -> str:
    if not mou.fully_signed:
        return UNSIGNED
    signed_on = mou.signed_on
    return signed_on.iso() if signed_on is not None else SIGNED_UNDATED


def mou_of(document: Document) -> MoU:
    return MoU.model_validate(document)


def own_handlers(database: Database) -> Handlers:
    """Projections of this service's own events into ``mous_view``."""
    view = database[MOUS_VIEW]
    handlers = Handlers(events_topic("mous"), "ucap.mou.")

    async def on_mou_event(envelope: Envelope, data: EventData) -> Outcome:
        def project(current: Document | None) -> Document:
            state = mou_of(current) if current is not None else None
            event: MouEvent = data  # type: ignore[assignment]  # registered for MouEvent only
            return mou_document(evolve(state, event))

        return await apply_event(
            view,
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=project,
            contiguous=True,
        )

    for model in PUBLISHED_EVENTS:
        handlers.on(model)(on_mou_event)
    return handlers


async def create_indexes(database: Database) -> None:
    view = database[MOUS_VIEW]
    await view.create_index([("sort_key", ASCENDING), ("_id", ASCENDING)])
    await view.create_index([("party_city_ids", ASCENDING)])


# --- queries ----------------------------------------------------------------


async def find_mou(database: Database, mou_id: str) -> MoU | None:
    document = await database[MOUS_VIEW].find_one({"_id": mou_id})
    return mou_of(document) if document else None


async def mous_of_city(database: Database, city_id: str, *, up_to: int) -> int:
    """How many MoUs the city is party to, counted up to ``up_to``: an equality on an
    indexed field with a limit (``count_documents`` may scan on FerretDB)."""
    cursor = database[MOUS_VIEW].find({"party_city_ids": city_id}, {"_id": 1}).limit(up_to)
    return len(await cursor.to_list())


async def known_cities(database: Database, city_ids: list[str]) -> KnownCities:
    """The registered cities among ``city_ids``, with their stakeholders' ids."""
    found = await asyncio.gather(
        *(database[CITIES_VIEW].find_one({"_id": city_id}) for city_id in sorted(set(city_ids)))
    )
    return {
        doc["_id"]: frozenset(doc.get("stakeholder_ids", []))
        for doc in found
        if doc is not None and doc.get("registered") is True
    }


async def known_organisations(
    database: Database, organisation_ids: list[str | None]
) -> KnownOrganisations:
    """The registered organisations with no city among ``organisation_ids``."""
    wanted = sorted({i for i in organisation_ids if i is not None})
    found = await asyncio.gather(
        *(database[ORGANISATIONS_VIEW].find_one({"_id": i}, {"_id": 1}) for i in wanted)
    )
    return frozenset(doc["_id"] for doc in found if doc is not None)


async def expiry_candidates(database: Database, today: date) -> list[str]:
    """MoUs whose validity has ended and whose expiry is not recorded yet."""
    query = {
        "termination": None,
        "expired_on": None,
        "valid_until_end": {"$ne": None, "$lt": today.isoformat()},
    }
    return [doc["_id"] async for doc in database[MOUS_VIEW].find(query, {"_id": 1})]


def status_query(status: Status, today: date) -> Document:
    """The stored-field condition for a status derived on ``today``."""
    day = today.isoformat()
    if status is Status.TERMINATED:
        return {"termination": {"$ne": None}}
    if status is Status.EXPIRED:
        return {
            "termination": None,
            "$or": [{"expired_on": {"$ne": None}}, {"valid_until_end": {"$lt": day}}],
        }
    live: Document = {
        "termination": None,
        "expired_on": None,
        "$or": [{"valid_until_end": None}, {"valid_until_end": {"$gte": day}}],
    }
    if status is Status.DRAFT:
        return {**live, "fully_signed": False}
    if status is Status.SIGNED:
        return {**live, "fully_signed": True, "in_force_from": {"$gt": day}}
    return {**live, "fully_signed": True, "in_force_from": {"$lte": day}}


@dataclass(frozen=True)
class MouFilters:
    city: str | None = None
    status: Status | None = None
    theme: str | None = None
    signed_from: PartialDate | None = None
    signed_until: PartialDate | None = None


@dataclass(frozen=True)
class Page:
    items: list[MoU]
    next_cursor: str | None


async def list_mous(
    database: Database, filters: MouFilters, today: date, *, limit: int, cursor: str | None
) -> Page:
    """MoUs by signing date (unsigned last), then id; a page after ``cursor``."""
    conditions: list[Document] = []
    if filters.city:
        conditions.append({"party_city_ids": filters.city})
    if filters.theme:
        conditions.append({"themes": filters.theme})
    if filters.status:
        conditions.append(status_query(filters.status, today))
    if filters.signed_from:
        conditions.append({"signed_on": {"$ne": None, "$gte": filters.signed_from.iso()}})
    if filters.signed_until:
        # "2018-07~" is after every date within July 2018 ("2018-07-31") and before August.
        conditions.append({"signed_on": {"$ne": None, "$lte": filters.signed_until.iso() + "~"}})
    if cursor:
        sort_key, mou_id = decode_cursor(cursor, 2)
        after = [{"sort_key": {"$gt": sort_key}}, {"sort_key": sort_key, "_id": {"$gt": mou_id}}]
        conditions.append({"$or": after})
    query = all_of(conditions)
    documents: list[dict[str, Any]] = (
        await database[MOUS_VIEW]
        .find(query)
        .sort([("sort_key", ASCENDING), ("_id", ASCENDING)])
        .limit(limit + 1)
        .to_list()
    )
    more = len(documents) > limit
    documents = documents[:limit]
    last = documents[-1] if documents else None
    next_cursor = encode_cursor(last["sort_key"], last["_id"]) if more and last else None
    return Page(items=[mou_of(doc) for doc in documents], next_cursor=next_cursor)
