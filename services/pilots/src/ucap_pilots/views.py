"""The pilots service's views: ``pilots_view`` (its own pilots), ``cities_view``, ``mous_view``
and ``ucaps_view`` (each U-CAP's lead and counterpart cities, from reporting's events).

``pilots_view`` holds each pilot as folded from its events, as compressed JSON
(``pilot_z``), next to the fields its queries filter on. A pilot grows with every
progress update, and a server that converts each field of a document on every read
and write (FerretDB does) handles a binary value at a fraction of the cost, the less
the smaller it is: progress updates compress about tenfold. The updates themselves
are sealed in runs as they fill and stored apart (``sealed_updates``), so a write
holds the latest few, however long the pilot's history.
"""

import asyncio
import zlib
from dataclasses import dataclass
from datetime import datetime

from bson import Binary
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from ucap_pilots.domain import Pilot, Status, evolve
from ucap_pilots.events import PUBLISHED_EVENTS, PilotEvent, Role
from ucap_pilots.sealed_updates import (
    SEALED_RUNS,
    UPDATES_PER_RUN,
    RunSealer,
    full_runs,
    sealed_updates,
)
from ucap_pilots.sealed_updates import create_indexes as create_run_indexes
from ucap_shared.bounded import BoundedMap
from ucap_shared.cursors import decode_cursor, encode_cursor
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.queries import all_of, page_in_id_order
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome, apply_event

PILOTS_VIEW = "pilots_view"
CITIES_VIEW = "cities_view"
MOUS_VIEW = "mous_view"
UCAPS_VIEW = "ucaps_view"

Database = AsyncDatabase[Document]


# --- projection -------------------------------------------------------------


def pilot_document(pilot: Pilot, sealed_runs: int = 0) -> Document:
    """The pilot as ``pilots_view`` stores it: ``pilot`` holds the updates after its first
    ``sealed_runs`` runs, which are stored apart (``sealed_updates``)."""
    return {
        "pilot_z": Binary(zlib.compress(pilot.model_dump_json().encode(), 1)),
        SEALED_RUNS: sealed_runs,
        "city_ids": pilot.city_ids,
        "roles": sorted({partner.role.value for partner in pilot.partners}),
        "party_roles": [f"{p.city_id}|{p.role.value}" for p in pilot.partners],
        "status": pilot.status.value,
        "cluster": pilot.cluster,
        "themes": list(pilot.themes),
        "sdg_goals": list(pilot.sdg_goals),
        "ucap_id": pilot.ucap_id,
        "ucaps_named": list(pilot.ucaps_named),
        "updated_at_time": pilot.updated_at,
    }


def own_part(document: Document) -> Pilot:
    """The pilot as its document holds it: without the updates of its sealed runs."""
    if "pilot_z" in document:
        return Pilot.model_validate_json(zlib.decompress(document["pilot_z"]))
    return Pilot.model_validate_json(document["pilot"])  # written before it was compressed


def sealed_runs_of(document: Document | None) -> int:
    return int(document.get(SEALED_RUNS, 0)) if document else 0


async def pilot_of(database: Database, document: Document) -> Pilot:
    """The whole pilot: its document's part, after the updates of its sealed runs."""
    own = own_part(document)
    sealed = await sealed_updates(database, own.pilot_id, sealed_runs_of(document))
    return own.model_copy(update={"updates": (*sealed, *own.updates)}) if sealed else own


@dataclass(frozen=True)
class _Written:
    pilot_z: bytes
    sealed_runs: int
    own: Pilot


class ParsedPilots:
    """The pilots this process wrote into the view last, parsed: a document that still
    holds the same bytes is not parsed again."""

    def __init__(self, capacity: int = 1024) -> None:
        self._pilots: BoundedMap[str, _Written] = BoundedMap(capacity)

    def of(self, pilot_id: str, document: Document) -> Pilot:
        """The document's part of the pilot (see :func:`own_part`)."""
        known = self._pilots.get(pilot_id)
        stored = (document.get("pilot_z"), sealed_runs_of(document))
        if known is not None and stored == (known.pilot_z, known.sealed_runs):
            return known.own
        return own_part(document)

    def written(self, pilot_id: str) -> _Written | None:
        return self._pilots.get(pilot_id)

    def document(self, own: Pilot, sealed_runs: int) -> Document:
        document = pilot_document(own, sealed_runs)
        written = _Written(bytes(document["pilot_z"]), sealed_runs, own)
        self._pilots.put(own.pilot_id, written)
        return document


@dataclass(frozen=True)
class _Sealed:
    """Runs stored before a write: ``runs`` full runs after the first ``after``."""

    after: int
    runs: int


def own_handlers(database: Database) -> Handlers:
    """Projections of this service's own events into ``pilots_view``."""
    view = database[PILOTS_VIEW]
    handlers = Handlers(events_topic("pilots"), "ucap.pilot.")
    parsed = ParsedPilots()
    sealer = RunSealer(database)

    async def seal_full_runs(pilot_id: str) -> _Sealed | None:
        """Store the full runs of the updates this process last wrote into the pilot's
        document, so this write may leave them out (a run is stored before it is left out)."""
        known = parsed.written(pilot_id)
        if known is None:
            return None
        runs = await sealer.seal(pilot_id, known.sealed_runs, known.own.updates)
        return _Sealed(known.sealed_runs, runs)

    async def on_pilot_event(envelope: Envelope, data: EventData) -> Outcome:
        stored = await seal_full_runs(envelope.subject)

        def project(current: Document | None) -> Document:
            own = parsed.of(envelope.subject, current) if current else None
            event: PilotEvent = data  # type: ignore[assignment]  # registered for PilotEvent only
            after = evolve(own, event, envelope.time)
            sealed = sealed_runs_of(current)
            if stored is not None and stored.after == sealed:
                left_out = min(stored.runs, full_runs(after.updates))
                after = after.model_copy(
                    update={"updates": after.updates[left_out * UPDATES_PER_RUN :]}
                )
                sealed += left_out
            return parsed.document(after, sealed)

        return await apply_event(
            view,
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=project,
            contiguous=True,
        )

    for model in PUBLISHED_EVENTS:
        handlers.on(model)(on_pilot_event)
    return handlers


async def create_indexes(database: Database) -> None:
    view = database[PILOTS_VIEW]
    await view.create_index([("city_ids", ASCENDING)])
    await view.create_index([("status", ASCENDING)])
    await view.create_index([("ucap_id", ASCENDING)])
    await view.create_index([("ucaps_named", ASCENDING)])
    await view.create_index([("updated_at_time", ASCENDING)])
    await create_run_indexes(database)


# --- queries ----------------------------------------------------------------


async def find_pilot(database: Database, pilot_id: str) -> Pilot | None:
    document = await database[PILOTS_VIEW].find_one({"_id": pilot_id})
    return await pilot_of(database, document) if document else None


async def known_cities(database: Database, city_ids: list[str]) -> set[str]:
    """The registered cities among ``city_ids``."""
    return await _having(database, CITIES_VIEW, city_ids, "registered")


async def known_mous(database: Database, mou_ids: list[str]) -> set[str]:
    """The drafted MoUs among ``mou_ids``."""
    return await _having(database, MOUS_VIEW, mou_ids, "drafted")


async def ucap_cities(database: Database, ucap_id: str) -> set[str] | None:
    """The lead and counterpart cities of the U-CAP, as reporting's events said; None:
    no such U-CAP is known here (yet)."""
    found = await database[UCAPS_VIEW].find_one({"_id": ucap_id})
    if found is None or found.get("created") is not True:
        return None
    return {found["lead_city_id"], *found["counterpart_city_ids"]}


async def pilots_naming(database: Database, ucap_id: str, *, besides: str) -> int:
    """How many pilots but ``besides`` ever named the U-CAP (an equality on an index)."""
    query = all_of([{"ucaps_named": ucap_id}, {"_id": {"$ne": besides}}])
    return await database[PILOTS_VIEW].count_documents(query)


async def _having(database: Database, view: str, ids: list[str], flag: str) -> set[str]:
    """Those of ``ids`` whose document has ``flag`` set: a read by ``_id`` each (no ``$in``)."""
    found = await asyncio.gather(
        *(database[view].find_one({"_id": doc_id}, {flag: 1}) for doc_id in sorted(set(ids)))
    )
    return {doc["_id"] for doc in found if doc is not None and doc.get(flag) is True}


@dataclass(frozen=True)
class PilotFilters:
    city: str | None = None
    role: Role | None = None
    status: Status | None = None
    cluster: str | None = None
    theme: str | None = None
    sdg: int | None = None
    ucap: str | None = None
    updated_since: datetime | None = None

    def conditions(self) -> list[Document]:
        conditions: list[Document] = []
        if self.city and self.role:
            conditions.append({"party_roles": f"{self.city}|{self.role.value}"})
        elif self.city:
            conditions.append({"city_ids": self.city})
        elif self.role:
            conditions.append({"roles": self.role.value})
        for field, value in (
            ("status", self.status.value if self.status else None),
            ("cluster", self.cluster),
            ("themes", self.theme),
            ("sdg_goals", self.sdg),
            ("ucap_id", self.ucap),
        ):
            if value is not None:
                conditions.append({field: value})
        if self.updated_since is not None:
            conditions.append({"updated_at_time": {"$gte": self.updated_since}})
        return conditions


@dataclass(frozen=True)
class Page:
    items: list[Pilot]
    next_cursor: str | None


async def list_pilots(
    database: Database, filters: PilotFilters, *, limit: int, cursor: str | None
) -> Page:
    """Pilots in id order, a page after ``cursor``."""
    documents, last = await page_in_id_order(
        database[PILOTS_VIEW],
        all_of(filters.conditions()),
        limit=limit,
        after=decode_cursor(cursor, 1)[0] if cursor else None,
    )
    next_cursor = encode_cursor(last) if last is not None else None
    pilots = await asyncio.gather(*(pilot_of(database, doc) for doc in documents))
    return Page(items=list(pilots), next_cursor=next_cursor)
