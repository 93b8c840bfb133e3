"""Projections of everyone's events into the reporting views, incrementally.

Views (all built only through ``ViewStore.apply``, i.e. the sequence guard):

- ``ucaps_view``: each U-CAP as folded from its own events.
- ``cities_view``, ``mous_view``, ``pilot_index_view``: this service's copy of
  each city, MoU and pilot (only what the status reads), each with ``seq``, the
  source's last applied sequence. ``pilot_index_view`` also says which U-CAP a
  pilot belongs to (``ucap_id``) and every U-CAP it ever belonged to.
- ``city_index_view``: city id -> the U-CAPs it takes part in (lead or
  counterpart). Only grows: a city dropped from a U-CAP stays listed, and its
  later events cost that U-CAP's document one harmless write.
- ``ucap_status_view``: one document per U-CAP: the U-CAP, and the copies of
  the cities, MoUs and pilots that concern it.

Cost per event: a city event writes its city document and the status
documents of the U-CAPs that city takes part in; a MoU event its MoU and the
U-CAPs of its parties; a pilot event its pilot and its U-CAP (plus any U-CAP it
left); a U-CAP event its own documents and its cities' index entries. Reads
are by id or on an indexed array field; the one wider read is a U-CAP's
creation pulling the pilots that named it before it existed.

Order across topics is not guaranteed (a pilot may arrive before its U-CAP),
so a status document takes copies from both directions: a U-CAP event *pulls*
its cities and MoUs (and, when created, its pilots), a city or MoU event
*pushes* itself to the U-CAPs in the index, a pilot to its U-CAP once that
exists in ``ucaps_view`` (so pilots of U-CAPs unknown here cost no status
document). The writer writes the index (or its source document) before it reads
the other side, so of two concurrent writers at least one sees the other; and
every copy carries its source's ``seq``, so an older copy never replaces a
newer one. The status document therefore converges to the same content
whatever the interleaving. What concerns the U-CAP now (a MoU between the lead
and a counterpart, a pilot whose ``ucap_id`` is this U-CAP) is decided when the
status is read, from the copies.
"""

from collections.abc import Callable, Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from ucap_reporting.domain import Ucap, evolve
from ucap_reporting.events import PUBLISHED_EVENTS, UcapCreated, UcapEvent
from ucap_reporting.store import ViewStore
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import APPLIED, Document, Outcome, pack_fields

UCAPS_VIEW = "ucaps_view"
STATUS_VIEW = "ucap_status_view"
CITIES_VIEW = "cities_view"
CITY_INDEX_VIEW = "city_index_view"
MOUS_VIEW = "mous_view"
PILOT_INDEX_VIEW = "pilot_index_view"
OWN_TOPIC = events_topic("reporting")
VIEWS = (UCAPS_VIEW, STATUS_VIEW, CITIES_VIEW, CITY_INDEX_VIEW, MOUS_VIEW, PILOT_INDEX_VIEW)
# A status document is rewritten whole on each event of its U-CAP's cities, MoUs and
# pilots; its copies of them, and the sequences applied, are one blob (none is queried).
pack_fields(STATUS_VIEW, ("cities", "mous", "pilots", APPLIED))

_narrow = ConfigDict(frozen=True, extra="ignore")


def _stream(kind: str, subject: str) -> str:
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


# --- status documents ---------------------------------------------------------


def empty_status(ucap_id: str) -> Document:
    return {
        "ucap_id": ucap_id,
        "ucap": None,
        "cities": [],
        "mous": [],
        "pilots": [],
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
    """A MoU concerns a U-CAP when its lead and at least one counterpart are both parties."""
    parties = set(mou.get("party_city_ids", ()))
    return ucap["lead_city_id"] in parties and bool(parties & set(ucap["counterpart_city_ids"]))


def _with_facets(document: Document) -> Document:
    """The status document with the fields the programme view filters on."""
    ucap = document["ucap"]
    if ucap is None:
        return document
    city_ids = {ucap["lead_city_id"], *ucap["counterpart_city_ids"]}
    cities = [c for c in document["cities"] if c["city_id"] in city_ids]
    pilots = [p for p in document["pilots"] if p.get("ucap_id") == document["ucap_id"]]
    clusters = {c for city in cities for c in city.get("clusters", [])}
    clusters |= {p["cluster"] for p in pilots if p.get("cluster")}
    return {
        **document,
        "f_clusters": sorted(clusters),
        "f_themes": sorted({theme["title"] for theme in ucap["themes"]}),
        "f_sdgs": sorted({*ucap["sdgs"], *(g for p in pilots for g in p.get("sdg_goals", []))}),
        "f_countries": sorted({c["country"] for c in cities if c.get("country")}),
    }


def _status_project(
    ucap_id: str, change: Callable[[Document], Document]
) -> Callable[[Document | None], Document]:
    def project(current: Document | None) -> Document:
        return _with_facets(change(current or empty_status(ucap_id)))

    return project


# --- the U-CAP's own events ---------------------------------------------------


def ucap_of(document: Document | None) -> Ucap | None:
    if document is None:
        return None
    return Ucap.model_validate({k: v for k, v in document.items() if k != "_id"})


def own_handlers(views: ViewStore, topic: str = OWN_TOPIC) -> Handlers:
    """The U-CAP's own events, read from ``topic`` (the runtime's own topic)."""
    handlers = Handlers(topic, "ucap.ucap.")

    async def on_ucap_event(envelope: Envelope, data: EventData) -> Outcome:
        event: UcapEvent = data  # type: ignore[assignment]  # registered for UcapEvent only
        ucap_id, stream = envelope.subject, _stream("ucap", envelope.subject)

        def project_ucap(current: Document | None) -> Document:
            return evolve(ucap_of(current), event).model_dump(mode="json")

        outcome, document = await apply_and_read(
            views,
            UCAPS_VIEW,
            ucap_id,
            stream=stream,
            sequence=envelope.sequence,
            project=project_ucap,
            contiguous=True,
        )
        latest = ucap_of(document)
        assert latest is not None
        city_ids = sorted(set(latest.city_ids))
        for city_id in city_ids:
            await views.apply(
                CITY_INDEX_VIEW,
                city_id,
                stream=stream,
                sequence=envelope.sequence,
                project=lambda current: {
                    "ucap_ids": sorted({*(current or {}).get("ucap_ids", []), ucap_id})
                },
            )
        # Pull only after the index names this U-CAP: see the module's docstring.
        cities = [city for city_id in city_ids if (city := await views.get(CITIES_VIEW, city_id))]
        mous = await views.find_in(MOUS_VIEW, "party_city_ids", [latest.lead_city_id])
        # Pilots push themselves only to U-CAPs that exist (see ``pilot_handlers``); those
        # that came first are pulled once, when the U-CAP is created.
        pilots = (
            await views.find_in(PILOT_INDEX_VIEW, "ucap_ids_seen", [ucap_id])
            if isinstance(event, UcapCreated)
            else []
        )

        def change(document: Document) -> Document:
            state = ucap_of(document["ucap"])
            return {
                **document,
                "ucap": evolve(state, event).model_dump(mode="json"),
                "cities": merge_copies(document["cities"], "city_id", _copies(cities)),
                "mous": merge_copies(document["mous"], "mou_id", _copies(mous)),
                "pilots": merge_copies(document["pilots"], "pilot_id", _copies(pilots)),
            }

        await views.apply(
            STATUS_VIEW,
            ucap_id,
            stream=stream,
            sequence=envelope.sequence,
            project=_status_project(ucap_id, change),
        )
        return outcome

    for model in PUBLISHED_EVENTS:
        handlers.on(model)(on_ucap_event)
    return handlers


def _copies(documents: Iterable[Document]) -> list[Document]:
    return [{k: v for k, v in document.items() if k != "_id"} for document in documents]


async def _push(
    views: ViewStore,
    ucap_ids: Iterable[str],
    envelope: Envelope,
    kind: str,
    section: str,
    key: str,
    source: Document,
) -> None:
    """Put the copy ``source`` of a city, MoU or pilot into each U-CAP's status document."""
    copy = _copies([source])
    for ucap_id in sorted(set(ucap_ids)):

        def change(document: Document) -> Document:
            return {**document, section: merge_copies(document[section], key, copy)}

        await views.apply(
            STATUS_VIEW,
            ucap_id,
            stream=_stream(kind, envelope.subject),
            sequence=envelope.sequence,
            project=_status_project(ucap_id, change),
        )


async def _ucaps_of_cities(views: ViewStore, city_ids: Sequence[str]) -> set[str]:
    # One read by id per city: a lookup by id is cheap on every MongoDB-protocol server.
    ucap_ids: set[str] = set()
    for city_id in sorted(set(city_ids)):
        index = await views.get(CITY_INDEX_VIEW, city_id)
        ucap_ids.update(index["ucap_ids"] if index else ())
    return ucap_ids


# --- cities -------------------------------------------------------------------


class Population(BaseModel):
    model_config = _narrow

    known: bool = False
    value: int | None = None
    year: int | None = None


class CityRegistered(EventData):
    model_config = _narrow
    event_type = "ucap.city.registered.v1"

    city_id: str
    name: str
    native_name: str | None = None
    region: str | None = None
    country: str | None = None
    world_region: str | None = None
    population: Population | None = None
    area_km2: float | None = None
    clusters: tuple[str, ...] = ()


class CityProfileUpdated(EventData):
    """Only the changed fields are present."""

    model_config = _narrow
    event_type = "ucap.city.profile_updated.v1"

    city_id: str
    name: str | None = None
    native_name: str | None = None
    region: str | None = None
    country: str | None = None
    world_region: str | None = None
    population: Population | None = None
    area_km2: float | None = None


class CityClusterJoined(EventData):
    model_config = _narrow
    event_type = "ucap.city.cluster_joined.v1"

    city_id: str
    cluster: str


class CityClusterLeft(EventData):
    model_config = _narrow
    event_type = "ucap.city.cluster_left.v1"

    city_id: str
    cluster: str


def empty_city(city_id: str) -> Document:
    return {
        "city_id": city_id,
        "seq": 0,
        "registered": False,
        "name": None,
        "native_name": None,
        "region": None,
        "country": None,
        "world_region": None,
        "population": None,
        "area_km2": None,
        "clusters": [],
    }


def city_handlers(views: ViewStore) -> Handlers:
    handlers = Handlers(events_topic("cities"), "ucap.city.")

    async def apply(envelope: Envelope, change: Callable[[Document], Document]) -> Outcome:
        city_id = envelope.subject

        def project(current: Document | None) -> Document:
            return {**change(current or empty_city(city_id)), "seq": envelope.sequence}

        outcome, city = await apply_and_read(
            views,
            CITIES_VIEW,
            city_id,
            stream=_stream("city", city_id),
            sequence=envelope.sequence,
            project=project,
        )
        ucap_ids = await _ucaps_of_cities(views, [city_id])
        await _push(views, ucap_ids, envelope, "city", "cities", "city_id", city)
        return outcome

    @handlers.on(CityRegistered)
    async def on_registered(envelope: Envelope, data: CityRegistered) -> Outcome:
        profile = data.model_dump(mode="json")
        return await apply(envelope, lambda city: {**city, **profile, "registered": True})

    @handlers.on(CityProfileUpdated)
    async def on_profile_updated(envelope: Envelope, data: CityProfileUpdated) -> Outcome:
        changes = data.model_dump(mode="json", exclude_unset=True)
        return await apply(envelope, lambda city: {**city, **changes})

    @handlers.on(CityClusterJoined)
    async def on_cluster_joined(envelope: Envelope, data: CityClusterJoined) -> Outcome:
        return await apply(
            envelope,
            lambda city: {**city, "clusters": sorted({*city["clusters"], data.cluster})},
        )

    @handlers.on(CityClusterLeft)
    async def on_cluster_left(envelope: Envelope, data: CityClusterLeft) -> Outcome:
        return await apply(
            envelope,
            lambda city: {**city, "clusters": [c for c in city["clusters"] if c != data.cluster]},
        )

    return handlers


# --- MoUs ---------------------------------------------------------------------


class MouParty(BaseModel):
    model_config = _narrow

    city_id: str


class MouDrafted(EventData):
    model_config = _narrow
    event_type = "ucap.mou.drafted.v1"

    mou_id: str
    title: str
    parties: tuple[MouParty, ...]
    themes: tuple[str, ...] = ()
    valid_from: PartialDate | None = None
    valid_until: PartialDate | None = None


class MouPartyAdded(EventData):
    model_config = _narrow
    event_type = "ucap.mou.party_added.v1"

    mou_id: str
    party: MouParty


class MouSigned(EventData):
    model_config = _narrow
    event_type = "ucap.mou.signed.v1"

    mou_id: str
    city_id: str
    signed_on: PartialDate


class MouTerminated(EventData):
    model_config = _narrow
    event_type = "ucap.mou.terminated.v1"

    mou_id: str
    terminated_on: PartialDate


class MouExpired(EventData):
    model_config = _narrow
    event_type = "ucap.mou.expired.v1"

    mou_id: str
    expired_on: PartialDate


def empty_mou(mou_id: str) -> Document:
    return {
        "mou_id": mou_id,
        "seq": 0,
        "title": None,
        "party_city_ids": [],
        "themes": [],
        "signatures": [],
        "valid_from": None,
        "valid_until": None,
        "terminated_on": None,
        "expired_on": None,
    }


def mou_handlers(views: ViewStore) -> Handlers:
    handlers = Handlers(events_topic("mous"), "ucap.mou.")

    async def apply(envelope: Envelope, change: Callable[[Document], Document]) -> Outcome:
        mou_id = envelope.subject

        def project(current: Document | None) -> Document:
            return {**change(current or empty_mou(mou_id)), "seq": envelope.sequence}

        outcome, mou = await apply_and_read(
            views,
            MOUS_VIEW,
            mou_id,
            stream=_stream("mou", mou_id),
            sequence=envelope.sequence,
            project=project,
        )
        ucap_ids = await _ucaps_of_cities(views, mou["party_city_ids"])
        await _push(views, ucap_ids, envelope, "mou", "mous", "mou_id", mou)
        return outcome

    @handlers.on(MouDrafted)
    async def on_drafted(envelope: Envelope, data: MouDrafted) -> Outcome:
        fields = data.model_dump(
            mode="json", include={"title", "themes", "valid_from", "valid_until"}
        )
        parties = [party.city_id for party in data.parties]
        return await apply(envelope, lambda mou: {**mou, **fields, "party_city_ids": parties})

    @handlers.on(MouPartyAdded)
    async def on_party_added(envelope: Envelope, data: MouPartyAdded) -> Outcome:
        return await apply(
            envelope,
            lambda mou: {**mou, "party_city_ids": [*mou["party_city_ids"], data.party.city_id]},
        )

    @handlers.on(MouSigned)
    async def on_signed(envelope: Envelope, data: MouSigned) -> Outcome:
        signature = {"city_id": data.city_id, "signed_on": data.signed_on.iso()}
        return await apply(
            envelope, lambda mou: {**mou, "signatures": [*mou["signatures"], signature]}
        )

    @handlers.on(MouTerminated)
    async def on_terminated(envelope: Envelope, data: MouTerminated) -> Outcome:
        return await apply(envelope, lambda mou: {**mou, "terminated_on": data.terminated_on.iso()})

    @handlers.on(MouExpired)
    async def on_expired(envelope: Envelope, data: MouExpired) -> Outcome:
        return await apply(envelope, lambda mou: {**mou, "expired_on": data.expired_on.iso()})

    return handlers


# --- pilots -------------------------------------------------------------------


class PilotPartner(BaseModel):
    model_config = _narrow

    city_id: str
    role: str


class PilotProposed(EventData):
    model_config = _narrow
    event_type = "ucap.pilot.proposed.v1"

    pilot_id: str
    title: str
    lead_city_id: str
    partners: tuple[PilotPartner, ...] = ()
    cluster: str | None = None
    themes: tuple[str, ...] = ()
    sdg_goals: tuple[int, ...] = ()
    mou_ids: tuple[str, ...] = ()
    ucap_id: str | None = None


class PilotStatusChanged(EventData):
    """The shape of every status transition; one subclass per event type."""

    model_config = _narrow
    event_type = "ucap.pilot.*"

    pilot_id: str
    status: str
    effective_on: PartialDate | None = None


class PilotApproved(PilotStatusChanged):
    event_type = "ucap.pilot.approved.v1"


class PilotStarted(PilotStatusChanged):
    event_type = "ucap.pilot.started.v1"


class PilotPutOnHold(PilotStatusChanged):
    event_type = "ucap.pilot.put_on_hold.v1"


class PilotResumed(PilotStatusChanged):
    event_type = "ucap.pilot.resumed.v1"


class PilotCompleted(PilotStatusChanged):
    event_type = "ucap.pilot.completed.v1"


class PilotCancelled(PilotStatusChanged):
    event_type = "ucap.pilot.cancelled.v1"


class PilotDetailsUpdated(EventData):
    """Only the changed fields are present."""

    model_config = _narrow
    event_type = "ucap.pilot.details_updated.v1"

    pilot_id: str
    title: str | None = None
    partners: tuple[PilotPartner, ...] | None = None
    cluster: str | None = None
    themes: tuple[str, ...] | None = None
    sdg_goals: tuple[int, ...] | None = None
    mou_ids: tuple[str, ...] | None = None
    ucap_id: str | None = None


class Milestone(BaseModel):
    model_config = _narrow

    milestone_id: str
    title: str
    planned_on: PartialDate


class PilotMilestoneAdded(EventData):
    model_config = _narrow
    event_type = "ucap.pilot.milestone_added.v1"

    pilot_id: str
    milestone: Milestone


class PilotMilestoneCompleted(EventData):
    model_config = _narrow
    event_type = "ucap.pilot.milestone_completed.v1"

    pilot_id: str
    milestone_id: str
    completed_on: PartialDate


class Award(BaseModel):
    model_config = _narrow

    award_id: str
    funder: str
    category: str | None = None
    amount: str | None = None
    currency: str | None = None
    awarded_on: PartialDate


class PilotFundingAwarded(EventData):
    model_config = _narrow
    event_type = "ucap.pilot.funding_awarded.v1"

    pilot_id: str
    award: Award


class ProgressUpdate(BaseModel):
    model_config = _narrow

    update_id: str
    reported_on: PartialDate
    reporting_city_id: str
    summary: str


class PilotProgressReported(EventData):
    model_config = _narrow
    event_type = "ucap.pilot.progress_reported.v1"

    pilot_id: str
    update: ProgressUpdate


STATUS_EVENTS: tuple[type[PilotStatusChanged], ...] = (
    PilotApproved,
    PilotStarted,
    PilotPutOnHold,
    PilotResumed,
    PilotCompleted,
    PilotCancelled,
)


def empty_pilot(pilot_id: str) -> Document:
    return {
        "pilot_id": pilot_id,
        "seq": 0,
        "title": None,
        "lead_city_id": None,
        "partners": [],
        "city_ids": [],
        "cluster": None,
        "themes": [],
        "sdg_goals": [],
        "mou_ids": [],
        "ucap_id": None,
        "ucap_ids_seen": [],
        "status": "proposed",
        "status_on": None,
        "milestones": [],
        "funding": [],
        "last_update": None,
        "updates_count": 0,
    }


def _pilot_fields(pilot: Document, fields: Document) -> Document:
    new = {**pilot, **fields}
    partners = [p["city_id"] for p in new["partners"]]
    new["city_ids"] = sorted({*([new["lead_city_id"]] if new["lead_city_id"] else []), *partners})
    if new["ucap_id"]:
        new["ucap_ids_seen"] = sorted({*new["ucap_ids_seen"], new["ucap_id"]})
    return new


def _later_update(current: Document | None, new: Document) -> Document:
    """The latest update by its date; of two on one date, the one reported last."""
    if current is None or new["reported_on"] >= current["reported_on"]:
        return new
    return current


def pilot_handlers(views: ViewStore) -> Handlers:
    handlers = Handlers(events_topic("pilots"), "ucap.pilot.")

    async def apply(envelope: Envelope, change: Callable[[Document], Document]) -> Outcome:
        pilot_id = envelope.subject

        def project(current: Document | None) -> Document:
            return {**change(current or empty_pilot(pilot_id)), "seq": envelope.sequence}

        outcome, pilot = await apply_and_read(
            views,
            PILOT_INDEX_VIEW,
            pilot_id,
            stream=_stream("pilot", pilot_id),
            sequence=envelope.sequence,
            project=project,
        )
        # Its U-CAP, and any it left (whose copy then says it is elsewhere); only U-CAPs that
        # exist: one created later pulls its pilots. The pilot is written before this check
        # and the U-CAP before its pull, so of the two at least one sees the other.
        ucap_ids = [u for u in pilot["ucap_ids_seen"] if await views.get(UCAPS_VIEW, u)]
        await _push(views, ucap_ids, envelope, "pilot", "pilots", "pilot_id", pilot)
        return outcome

    @handlers.on(PilotProposed)
    async def on_proposed(envelope: Envelope, data: PilotProposed) -> Outcome:
        fields = data.model_dump(mode="json", exclude={"pilot_id"})
        return await apply(envelope, lambda pilot: _pilot_fields(pilot, fields))

    async def on_status(envelope: Envelope, data: PilotStatusChanged) -> Outcome:
        on = data.effective_on.iso() if data.effective_on else None
        return await apply(
            envelope, lambda pilot: {**pilot, "status": data.status, "status_on": on}
        )

    for model in STATUS_EVENTS:
        handlers.on(model)(on_status)

    @handlers.on(PilotDetailsUpdated)
    async def on_details_updated(envelope: Envelope, data: PilotDetailsUpdated) -> Outcome:
        fields = data.model_dump(mode="json", exclude_unset=True, exclude={"pilot_id"})
        for name in ("partners", "themes", "sdg_goals", "mou_ids"):
            if name in fields and fields[name] is None:
                fields[name] = []
        return await apply(envelope, lambda pilot: _pilot_fields(pilot, fields))

    @handlers.on(PilotMilestoneAdded)
    async def on_milestone_added(envelope: Envelope, data: PilotMilestoneAdded) -> Outcome:
        milestone = {**data.milestone.model_dump(mode="json"), "completed_on": None}

        def change(pilot: Document) -> Document:
            others = [
                m for m in pilot["milestones"] if m["milestone_id"] != milestone["milestone_id"]
            ]
            return {**pilot, "milestones": [*others, milestone]}

        return await apply(envelope, change)

    @handlers.on(PilotMilestoneCompleted)
    async def on_milestone_completed(envelope: Envelope, data: PilotMilestoneCompleted) -> Outcome:
        def change(pilot: Document) -> Document:
            milestones = [
                {**m, "completed_on": data.completed_on.iso()}
                if m["milestone_id"] == data.milestone_id
                else m
                for m in pilot["milestones"]
            ]
            return {**pilot, "milestones": milestones}

        return await apply(envelope, change)

    @handlers.on(PilotFundingAwarded)
    async def on_funding_awarded(envelope: Envelope, data: PilotFundingAwarded) -> Outcome:
        award = data.award.model_dump(mode="json")
        return await apply(envelope, lambda pilot: {**pilot, "funding": [*pilot["funding"], award]})

    @handlers.on(PilotProgressReported)
    async def on_progress_reported(envelope: Envelope, data: PilotProgressReported) -> Outcome:
        update = data.update.model_dump(mode="json")

        def change(pilot: Document) -> Document:
            return {
                **pilot,
                "last_update": _later_update(pilot["last_update"], update),
                "updates_count": pilot["updates_count"] + 1,
            }

        return await apply(envelope, change)

    return handlers


def all_handlers(views: ViewStore, own_topic: str = OWN_TOPIC) -> list[Handlers]:
    return [
        own_handlers(views, own_topic),
        city_handlers(views),
        mou_handlers(views),
        pilot_handlers(views),
    ]
