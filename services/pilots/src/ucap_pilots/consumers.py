"""Other services' events, kept as this service's own views of cities, MoUs and U-CAPs.

Narrow copies of the producers' events: only what the pilot rules read (a city
is registered; a MoU was drafted; a U-CAP's lead and counterpart cities). Event
types not read here are skipped by the consumer, which still advances the
stream's position.
"""

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

from ucap_pilots.views import CITIES_VIEW, MOUS_VIEW, UCAPS_VIEW
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome, apply_event

_narrow = ConfigDict(frozen=True, extra="ignore")


class CityRegistered(EventData):
    model_config = _narrow
    event_type = "ucap.city.registered.v1"

    city_id: str
    name: str


class MouParty(BaseModel):
    model_config = _narrow

    city_id: str | None = None
    """Null for a party that is an organisation with no city."""


class MouDrafted(EventData):
    model_config = _narrow
    event_type = "ucap.mou.drafted.v1"

    mou_id: str
    title: str
    parties: tuple[MouParty, ...]


class MouPartyAdded(EventData):
    model_config = _narrow
    event_type = "ucap.mou.party_added.v1"

    mou_id: str
    party: MouParty


class UcapCreated(EventData):
    model_config = _narrow
    event_type = "ucap.ucap.created.v1"

    ucap_id: str
    lead_city_id: str
    counterpart_city_ids: tuple[str, ...]


class UcapSectionUpdated(EventData):
    """Only the ``cities`` section says anything this service reads."""

    model_config = _narrow
    event_type = "ucap.ucap.section_updated.v1"

    ucap_id: str
    section: str
    lead_city_id: str | None = None
    counterpart_city_ids: tuple[str, ...] | None = None


CITIES_SECTION = "cities"


async def _apply(
    database: AsyncDatabase[Document],
    collection: str,
    envelope: Envelope,
    change: Callable[[Document | None], Document],
) -> Outcome:
    return await apply_event(
        database[collection],
        envelope.subject,
        stream=envelope.subject,
        sequence=envelope.sequence,
        project=change,
    )


def city_handlers(database: AsyncDatabase[Document]) -> Handlers:
    handlers = Handlers(events_topic("cities"), "ucap.city.")

    @handlers.on(CityRegistered)
    async def on_city_registered(envelope: Envelope, data: CityRegistered) -> Outcome:
        return await _apply(
            database,
            CITIES_VIEW,
            envelope,
            lambda current: {"city_id": data.city_id, "name": data.name, "registered": True},
        )

    return handlers


def mou_handlers(database: AsyncDatabase[Document]) -> Handlers:
    handlers = Handlers(events_topic("mous"), "ucap.mou.")

    @handlers.on(MouDrafted)
    async def on_mou_drafted(envelope: Envelope, data: MouDrafted) -> Outcome:
        document = {
            "mou_id": data.mou_id,
            "title": data.title,
            "party_city_ids": [p.city_id for p in data.parties if p.city_id is not None],
            "drafted": True,
        }
        return await _apply(database, MOUS_VIEW, envelope, lambda current: document)

    @handlers.on(MouPartyAdded)
    async def on_mou_party_added(envelope: Envelope, data: MouPartyAdded) -> Outcome:
        def change(current: Document | None) -> Document:
            mou = current or {"mou_id": data.mou_id, "party_city_ids": [], "drafted": False}
            if data.party.city_id is None:
                return mou
            ids = [i for i in mou["party_city_ids"] if i != data.party.city_id]
            return {**mou, "party_city_ids": [*ids, data.party.city_id]}

        return await _apply(database, MOUS_VIEW, envelope, change)

    return handlers


def ucap_document(ucap_id: str, lead: str | None, counterparts: tuple[str, ...]) -> Document:
    return {
        "ucap_id": ucap_id,
        "lead_city_id": lead,
        "counterpart_city_ids": list(counterparts),
        "created": lead is not None,
    }


def ucap_handlers(database: AsyncDatabase[Document]) -> Handlers:
    """Reporting's U-CAP events: each U-CAP's lead and counterpart cities (``ucaps_view``)."""
    handlers = Handlers(events_topic("reporting"), "ucap.ucap.")

    @handlers.on(UcapCreated)
    async def on_ucap_created(envelope: Envelope, data: UcapCreated) -> Outcome:
        document = ucap_document(data.ucap_id, data.lead_city_id, data.counterpart_city_ids)
        return await _apply(database, UCAPS_VIEW, envelope, lambda current: document)

    @handlers.on(UcapSectionUpdated)
    async def on_ucap_section_updated(envelope: Envelope, data: UcapSectionUpdated) -> Outcome:
        def change(current: Document | None) -> Document:
            ucap = current or ucap_document(data.ucap_id, None, ())
            if data.section != CITIES_SECTION:
                return ucap
            return {
                **ucap,
                "lead_city_id": data.lead_city_id or ucap["lead_city_id"],
                "counterpart_city_ids": list(data.counterpart_city_ids or ()),
                "created": True,
            }

        return await _apply(database, UCAPS_VIEW, envelope, change)

    return handlers
