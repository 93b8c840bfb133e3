"""The views' documents and the one step that applies a source's event to them.

A city, MoU or pilot event changes this service's copy of its source (a
:class:`Source`: its view, its empty document, which U-CAPs it concerns), and
the copy is then pushed into the status document of each U-CAP it concerns:
:func:`apply_change`. A U-CAP's own events are applied in ``ucaps``.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import bson
from pydantic import ConfigDict

from ucap_reporting.store import ViewStore
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import APPLIED, Document, Outcome, batch_writes, pack_fields

UCAPS_VIEW = "ucaps_view"
STATUS_VIEW = "ucap_status_view"
CITIES_VIEW = "cities_view"
CITY_INDEX_VIEW = "city_index_view"
MOUS_VIEW = "mous_view"
PILOT_INDEX_VIEW = "pilot_index_view"
ORGANISATIONS_VIEW = "organisations_view"
ORGANISATION_INDEX_VIEW = "organisation_index_view"
OWN_TOPIC = events_topic("reporting")
VIEWS = (
    UCAPS_VIEW,
    STATUS_VIEW,
    CITIES_VIEW,
    CITY_INDEX_VIEW,
    MOUS_VIEW,
    PILOT_INDEX_VIEW,
    ORGANISATIONS_VIEW,
    ORGANISATION_INDEX_VIEW,
)
# A status document is rewritten whole on each event of its U-CAP's cities, MoUs and
# pilots; its copies of them, and the sequences applied, are one blob (none is queried).
pack_fields(STATUS_VIEW, ("cities", "mous", "pilots", "organisations", APPLIED))
# Written at the end of each consumer batch: nothing builds another document from one.
batch_writes(STATUS_VIEW)


narrow = ConfigDict(frozen=True, extra="ignore")
"""Copies of other services' events read only what the views need, and ignore the rest."""


def stream_of(kind: str, subject: str) -> str:
    """The stream key in a view document: sources share documents, so ids need a kind."""
    return f"{kind}:{subject}"


async def apply_and_read(
    views: ViewStore,
    view: str,
    doc_id: str,
    *,
    stream: str,
    sequence: int,
    project: Callable[[Document | None], Document],
    contiguous: bool = False,
) -> tuple[Outcome, Document]:
    """Apply, and return the document as it now stands (read again only after a duplicate)."""
    written: list[Document] = []

    def capture(current: Document | None) -> Document:
        written.append(project(current))
        return written[-1]

    outcome = await views.apply(
        view, doc_id, stream=stream, sequence=sequence, project=capture, contiguous=contiguous
    )
    if outcome is Outcome.APPLIED:
        return outcome, written[-1]
    document = await views.get(view, doc_id)
    assert document is not None, f"{view}/{doc_id} vanished"
    return outcome, document


def empty_status(ucap_id: str) -> Document:
    return {
        "ucap_id": ucap_id,
        "ucap": None,
        "cities": [],
        "mous": [],
        "pilots": [],
        "organisations": [],
        "f_clusters": [],
        "f_themes": [],
        "f_sdgs": [],
        "f_countries": [],
    }


def merge_copies(entries: list[Document], key: str, copies: Iterable[Document]) -> list[Document]:
    """``entries`` with each of ``copies`` in place of an older copy of the same source."""
    by_id = {entry[key]: entry for entry in entries}
    for new in copies:
        old = by_id.get(new[key])
        if old is None or new["seq"] > old["seq"]:
            by_id[new[key]] = new
    return [by_id[k] for k in sorted(by_id)]


def relevant_mou(ucap: Document, mou: Document) -> bool:
    """A MoU concerns a U-CAP when its lead and at least one counterpart are both parties.

    Only MoUs of the lead are copied into a status document (``mous``); copies of a
    former lead's MoUs may linger there a while, and this hides them.
    """
    parties = set(mou.get("party_city_ids", ()))
    return ucap["lead_city_id"] in parties and bool(parties & set(ucap["counterpart_city_ids"]))


def relevant_pilot(ucap: Document, pilot: Document) -> bool:
    """A pilot belongs to a U-CAP when it names it and its lead city takes part in it.

    Pilots refuse to name a U-CAP their lead has no part in, but a copy may predate that
    rule, or the U-CAP's cities may have changed since: the status shows only what holds.
    """
    cities = {ucap["lead_city_id"], *ucap["counterpart_city_ids"]}
    return pilot.get("ucap_id") == ucap["ucap_id"] and pilot.get("lead_city_id") in cities


def with_facets(document: Document) -> Document:
    """The status document with the fields the programme view filters on."""
    ucap = document["ucap"]
    if ucap is None:
        return document
    city_ids = {ucap["lead_city_id"], *ucap["counterpart_city_ids"]}
    cities = [c for c in document["cities"] if c["city_id"] in city_ids]
    pilots = [p for p in document["pilots"] if relevant_pilot(ucap, p)]
    clusters = {c for city in cities for c in city.get("clusters", [])}
    clusters |= {p["cluster"] for p in pilots if p.get("cluster")}
    return {
        **document,
        "f_clusters": sorted(clusters),
        "f_themes": sorted({theme["title"] for theme in ucap["themes"]}),
        "f_sdgs": sorted({*ucap["sdgs"], *(g for p in pilots for g in p.get("sdg_goals", []))}),
        "f_countries": sorted({c["country"] for c in cities if c.get("country")}),
    }


def status_project(
    ucap_id: str, change: Callable[[Document], Document]
) -> Callable[[Document | None], Document]:
    def project(current: Document | None) -> Document:
        return with_facets(change(current or empty_status(ucap_id)))

    return project


def copies(documents: Iterable[Document]) -> list[Document]:
    return [{k: v for k, v in document.items() if k != "_id"} for document in documents]


Sections = dict[str, list[Document]]
"""Copies to merge into a status document, by section and keyed as the section is."""

SECTION_KEYS = {
    "cities": "city_id",
    "mous": "mou_id",
    "pilots": "pilot_id",
    "organisations": "organisation_id",
}


HELD_KINDS = {"cities": "city", "mous": "mou", "pilots": "pilot", "organisations": "organisation"}
"""The kind of source each section of a status document holds copies of."""


def held_sequences(document: Document) -> dict[str, int]:
    """Per source stream, the last sequence a status document holds.

    Its bookkeeping names the events applied to it. A copy pulled when the U-CAP was
    created (a city, MoU or pilot known before it) holds its source up to the copy's
    ``seq`` though no event of that source was applied to the document. Both count, so
    the answer does not depend on whether a copy came pulled or pushed: live, after a
    restart that replays a source's events, or in a rebuild.
    """
    held: dict[str, int] = dict(document.get(APPLIED, {}))
    for section, kind in HELD_KINDS.items():
        key = SECTION_KEYS[section]
        for copy in document.get(section) or []:
            sequence = int(copy.get("seq", 0))
            if sequence > 0:
                stream = stream_of(kind, copy[key])
                held[stream] = max(held.get(stream, 0), sequence)
    return held


def merge_sections(document: Document, sections: Sections) -> Document:
    merged = {**document}
    for section, new in sections.items():
        key = SECTION_KEYS[section]
        merged[section] = merge_copies(document.get(section) or [], key, copies(new))
    return merged


async def push(
    views: ViewStore,
    ucap_ids: Iterable[str],
    envelope: Envelope,
    source: "Source",
    copy: Document,
    pulled: Sections | None = None,
) -> None:
    """Put ``copy`` of a city, MoU or pilot (and what it ``pulled``: the organisations it
    refers to) into each U-CAP's status document."""
    sections = {**(pulled or {}), source.section: [copy]}
    for ucap_id in sorted(set(ucap_ids)):

        def change(document: Document) -> Document:
            return merge_sections(document, sections)

        await views.apply(
            STATUS_VIEW,
            ucap_id,
            stream=stream_of(source.kind, envelope.subject),
            sequence=envelope.sequence,
            project=status_project(ucap_id, change),
        )


async def ucaps_of_cities(views: ViewStore, city_ids: Sequence[str]) -> set[str]:
    """The U-CAPs these cities take part in, from the city index."""
    # One read by id per city: a lookup by id is cheap on every MongoDB-protocol server.
    ucap_ids: set[str] = set()
    for city_id in sorted(set(city_ids)):
        index = await views.get(CITY_INDEX_VIEW, city_id)
        ucap_ids.update(index["ucap_ids"] if index else ())
    return ucap_ids


@dataclass(frozen=True)
class Source:
    """A kind of source whose copies the status documents hold."""

    kind: str
    view: str
    section: str
    key: str
    empty: Callable[[str], Document]
    concerns: Callable[[ViewStore, Document], Awaitable[Iterable[str]]]
    """The U-CAPs whose status documents take this copy."""
    pulls: "Pulls | None" = None
    """What a copy brings along into those documents (organisations it refers to)."""
    budget: int | None = None
    """Bytes of BSON a copy may take in a status document (``ucap_reporting.capacity``)."""
    trim: Callable[[Document], Document] | None = None
    """The copy without its details (texts, lists of secondary facts), for ``budget``."""


def fitted(source: Source, copy: Document) -> Document:
    """``copy``, or, when it would pass its budget, the copy without its details, marked
    ``details_omitted`` (only a copy near every bound of its source's limits is)."""
    if source.budget is None or source.trim is None:
        return copy
    if len(bson.encode(copy)) < source.budget:
        return copy
    return {**source.trim(copy), "details_omitted": True}


Pulls = Callable[[ViewStore, Document, list[str], str, int], Awaitable[Sections]]
"""(views, copy, U-CAP ids, stream, sequence): the sections to merge with the copy."""


async def apply_change(
    views: ViewStore, source: Source, envelope: Envelope, change: Callable[[Document], Document]
) -> Outcome:
    """Apply ``change`` to the source's copy, then push the copy to the U-CAPs it concerns."""
    subject = envelope.subject

    def project(current: Document | None) -> Document:
        return fitted(
            source, {**change(current or source.empty(subject)), "seq": envelope.sequence}
        )

    outcome, copy = await apply_and_read(
        views,
        source.view,
        subject,
        stream=stream_of(source.kind, subject),
        sequence=envelope.sequence,
        project=project,
    )
    ucap_ids = sorted(set(await source.concerns(views, copy)))
    stream = stream_of(source.kind, subject)
    pulled = (
        await source.pulls(views, copy, ucap_ids, stream, envelope.sequence)
        if source.pulls is not None and ucap_ids
        else None
    )
    await push(views, ucap_ids, envelope, source, copy, pulled)
    return outcome


OnEvent = Callable[[ViewStore, Envelope, Any], Awaitable[Outcome]]
"""An ``on_<event>`` function: the views, the event, and its data as its model."""


def handlers_of(
    topic: str, type_prefix: str, views: ViewStore, table: Iterable[tuple[type[Any], OnEvent]]
) -> Handlers:
    """``Handlers`` for ``topic``: each ``on_<event>`` of ``table`` bound to ``views``."""
    handlers = Handlers(topic, type_prefix)
    for model, on_event in table:
        handlers.on(model)(_bound(views, on_event))
    return handlers


def _bound(
    views: ViewStore, on_event: OnEvent
) -> Callable[[Envelope, EventData], Awaitable[Outcome]]:
    async def handle(envelope: Envelope, data: EventData) -> Outcome:
        return await on_event(views, envelope, data)

    return handle
