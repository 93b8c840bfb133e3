"""MoUs' events: this service's copy of each MoU, pushed to the U-CAPs its parties lead.

A MoU concerns a U-CAP only if the U-CAP's lead is a party (``relevant_mou``), so a copy
goes only to the U-CAPs that ``ucaps_view`` says a party leads: a status document holds
copies of its lead's MoUs, which ``ucap_mous.capacity`` bounds, and not of every MoU of
its up to 50 counterparts. The copy keeps only what the status reads (no themes).
"""

from pydantic import BaseModel

from ucap_reporting.projections.documents import (
    MOUS_VIEW,
    UCAPS_VIEW,
    Source,
    apply_change,
    handlers_of,
    narrow,
)
from ucap_reporting.store import ViewStore
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome


class MouParty(BaseModel):
    model_config = narrow

    city_id: str


class MouDrafted(EventData):
    model_config = narrow
    event_type = "ucap.mou.drafted.v1"

    mou_id: str
    title: str
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
    city_id: str
    signed_on: PartialDate


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


MOUS = Source("mou", MOUS_VIEW, "mous", "mou_id", empty_mou, _ucaps_led_by_parties)


async def on_mou_drafted(views: ViewStore, envelope: Envelope, data: MouDrafted) -> Outcome:
    fields = data.model_dump(mode="json", include={"title", "valid_from", "valid_until"})
    parties = [party.city_id for party in data.parties]
    return await apply_change(
        views, MOUS, envelope, lambda mou: {**mou, **fields, "party_city_ids": parties}
    )


async def on_mou_party_added(views: ViewStore, envelope: Envelope, data: MouPartyAdded) -> Outcome:
    return await apply_change(
        views,
        MOUS,
        envelope,
        lambda mou: {**mou, "party_city_ids": [*mou["party_city_ids"], data.party.city_id]},
    )


async def on_mou_signed(views: ViewStore, envelope: Envelope, data: MouSigned) -> Outcome:
    signature = {"city_id": data.city_id, "signed_on": data.signed_on.iso()}
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
