"""MoUs' events: this service's copy of each MoU, pushed to the U-CAPs its parties lead.

A MoU concerns a U-CAP only if the U-CAP's lead is a party (``relevant_mou``), so a copy
goes only to the U-CAPs that ``ucaps_view`` says a party leads: a status document holds
copies of its lead's MoUs, which ``ucap_mous.capacity`` bounds, and not of every MoU of
its up to 50 counterparts. The copy keeps only what the status reads.

A party is a city (``city_id``), one of its organisations (``city_id`` and
``organisation_id``) or an organisation with no city (``organisation_id``); events from
before organisations (only ``city_id``) read as cities. ``party_city_ids`` (indexed) lists
the cities of the parties that have one. A signature's ``signed_on`` may be null: signed,
date unknown.
"""

from pydantic import BaseModel

from ucap_reporting.capacity import MOU_COPY_BYTES
from ucap_reporting.projections.documents import (
    MOUS_VIEW,
    UCAPS_VIEW,
    Source,
    apply_change,
    handlers_of,
    narrow,
)
from ucap_reporting.projections.organisations import pulled_by_mou
from ucap_reporting.store import ViewStore
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome


class MouParty(BaseModel):
    model_config = narrow

    city_id: str | None = None
    organisation_id: str | None = None
    stakeholder_ids: tuple[str, ...] = ()


class MouDrafted(EventData):
    model_config = narrow
    event_type = "ucap.mou.drafted.v1"

    mou_id: str
    title: str
    subject: str = ""
    themes: tuple[str, ...] = ()
    parties: tuple[MouParty, ...]
    valid_from: PartialDate | None = None
    valid_until: PartialDate | None = None


class MouPartyAdded(EventData):
    model_config = narrow
    event_type = "ucap.mou.party_added.v1"

    mou_id: str
    party: MouParty


class MouSigned(EventData):
    model_config = narrow
    event_type = "ucap.mou.signed.v1"

    mou_id: str
    city_id: str | None = None
    organisation_id: str | None = None
    signed_on: PartialDate | None = None
    place: str | None = None
    signatory: str | None = None
    occasion: str | None = None


class MouTerminated(EventData):
    model_config = narrow
    event_type = "ucap.mou.terminated.v1"

    mou_id: str
    terminated_on: PartialDate


class MouExpired(EventData):
    model_config = narrow
    event_type = "ucap.mou.expired.v1"

    mou_id: str
    expired_on: PartialDate


def empty_mou(mou_id: str) -> Document:
    return {
        "mou_id": mou_id,
        "seq": 0,
        "title": None,
        "subject": "",
        "themes": [],
        "party_city_ids": [],
        "signatures": [],
        "valid_from": None,
        "valid_until": None,
        "terminated_on": None,
        "expired_on": None,
    }


async def _ucaps_led_by_parties(views: ViewStore, mou: Document) -> set[str]:
    """The U-CAPs whose lead is a party: one equality on ``ucaps_view``'s indexed lead each."""
    led = await views.find_in(UCAPS_VIEW, "lead_city_id", mou["party_city_ids"])
    return {ucap["ucap_id"] for ucap in led}


def _without_details(mou: Document) -> Document:
    parties = [{**p, "stakeholder_ids": []} for p in mou.get("parties") or []]
    core = ("city_id", "organisation_id", "signed_on")
    signatures = [
        _compact({k: s.get(k) for k in core}, ("city_id", "signed_on")) for s in mou["signatures"]
    ]
    trimmed = {**mou, "subject": "", "themes": [], "signatures": signatures}
    return _with_parties(trimmed, parties) if parties else trimmed


MOUS = Source(
    "mou",
    MOUS_VIEW,
    "mous",
    "mou_id",
    empty_mou,
    _ucaps_led_by_parties,
    pulled_by_mou,
    budget=MOU_COPY_BYTES,
    trim=_without_details,
)


def _with_parties(mou: Document, parties: list[Document]) -> Document:
    """The copy with ``parties``: kept whole only when one is more than a city (of a MoU
    between cities, the commonest, ``party_city_ids`` says it all)."""
    city_ids = list(dict.fromkeys(p["city_id"] for p in parties if p.get("city_id")))
    plain = all(
        p.get("city_id") and not p.get("organisation_id") and not p.get("stakeholder_ids")
        for p in parties
    )
    kept = {k: v for k, v in mou.items() if k != "parties"}
    return {**kept, "party_city_ids": city_ids, **({} if plain else {"parties": parties})}


def parties_of(mou: Document) -> list[Document]:
    """A copy's parties; when they are all cities, only their ids are kept."""
    if mou.get("parties"):
        parties: list[Document] = mou["parties"]
        return parties
    return [
        {"city_id": c, "organisation_id": None, "stakeholder_ids": []}
        for c in mou["party_city_ids"]
    ]


def _compact(values: Document, always: tuple[str, ...]) -> Document:
    """``values`` without its nulls, but for the fields ``always`` kept."""
    return {k: v for k, v in values.items() if v is not None or k in always}


async def on_mou_drafted(views: ViewStore, envelope: Envelope, data: MouDrafted) -> Outcome:
    fields = data.model_dump(
        mode="json", include={"title", "subject", "themes", "valid_from", "valid_until"}
    )
    parties = [party.model_dump(mode="json") for party in data.parties]
    return await apply_change(
        views, MOUS, envelope, lambda mou: _with_parties({**mou, **fields}, parties)
    )


async def on_mou_party_added(views: ViewStore, envelope: Envelope, data: MouPartyAdded) -> Outcome:
    party = data.party.model_dump(mode="json")
    return await apply_change(
        views, MOUS, envelope, lambda mou: _with_parties(mou, [*parties_of(mou), party])
    )


async def on_mou_signed(views: ViewStore, envelope: Envelope, data: MouSigned) -> Outcome:
    # Nulls are left out (a copy takes room in a status document); "signed_on" is kept:
    # null there means signed on a date not known.
    signature = _compact(data.model_dump(mode="json", exclude={"mou_id"}), ("city_id", "signed_on"))
    return await apply_change(
        views, MOUS, envelope, lambda mou: {**mou, "signatures": [*mou["signatures"], signature]}
    )


async def on_mou_terminated(views: ViewStore, envelope: Envelope, data: MouTerminated) -> Outcome:
    on = data.terminated_on.iso()
    return await apply_change(views, MOUS, envelope, lambda mou: {**mou, "terminated_on": on})


async def on_mou_expired(views: ViewStore, envelope: Envelope, data: MouExpired) -> Outcome:
    on = data.expired_on.iso()
    return await apply_change(views, MOUS, envelope, lambda mou: {**mou, "expired_on": on})


def mou_handlers(views: ViewStore) -> Handlers:
    return handlers_of(
        events_topic("mous"),
        "ucap.mou.",
        views,
        [
            (MouDrafted, on_mou_drafted),
            (MouPartyAdded, on_mou_party_added),
            (MouSigned, on_mou_signed),
            (MouTerminated, on_mou_terminated),
            (MouExpired, on_mou_expired),
        ],
    )
