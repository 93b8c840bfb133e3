"""The cities service's events, kept as this service's own view of cities.

Narrow copies of the cities service's events: only what the MoU rules read
(a city exists, its name and country, its stakeholder organisations' ids; an
organisation with no city exists, in ``organisations_view``).

Every ``ucap.city.*`` event advances the city's sequence in ``cities_view``,
including the types this service does not read: the view's sequence guard
would otherwise hold every later event of that city behind the unread one.
"""

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

from ucap_mous.views import CITIES_VIEW, ORGANISATIONS_VIEW
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome, apply_event

CITY_EVENT_PREFIX = "ucap.city."
ORGANISATION_EVENT_PREFIX = "ucap.organisation."

_narrow = ConfigDict(frozen=True, extra="ignore")


class CityRegistered(EventData):
    model_config = _narrow
    event_type = "ucap.city.registered.v1"

    city_id: str
    name: str
    country: str | None = None


class CityProfileUpdated(EventData):
    """Only the changed fields are present."""

    model_config = _narrow
    event_type = "ucap.city.profile_updated.v1"

    city_id: str
    name: str | None = None
    country: str | None = None


class Stakeholder(BaseModel):
    model_config = _narrow

    stakeholder_id: str


class CityStakeholderAdded(EventData):
    model_config = _narrow
    event_type = "ucap.city.stakeholder_added.v1"

    city_id: str
    stakeholder: Stakeholder


class CityStakeholderRemoved(EventData):
    model_config = _narrow
    event_type = "ucap.city.stakeholder_removed.v1"

    city_id: str
    stakeholder_id: str


class OrganisationRegistered(EventData):
    model_config = _narrow
    event_type = "ucap.organisation.registered.v1"

    organisation_id: str
    name: str


def _city(current: Document | None, city_id: str) -> Document:
    """The city as the view holds it, or a placeholder not yet registered."""
    return current or {
        "city_id": city_id,
        "registered": False,
        "name": None,
        "country": None,
        "stakeholder_ids": [],
    }


def city_handlers(database: AsyncDatabase[Document]) -> Handlers:
    view = database[CITIES_VIEW]

    async def apply(envelope: Envelope, change: Callable[[Document], None]) -> Outcome:
        def project(current: Document | None) -> Document:
            city: Document = dict(_city(current, envelope.subject))
            change(city)
            return city

        return await apply_event(
            view,
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=project,
        )

    handlers = Handlers(events_topic("cities"), (CITY_EVENT_PREFIX, ORGANISATION_EVENT_PREFIX))

    @handlers.on(OrganisationRegistered)
    async def on_organisation_registered(
        envelope: Envelope, data: OrganisationRegistered
    ) -> Outcome:
        return await apply_event(
            database[ORGANISATIONS_VIEW],
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=lambda current: {"organisation_id": data.organisation_id, "name": data.name},
        )

    @handlers.on(CityRegistered)
    async def on_registered(envelope: Envelope, data: CityRegistered) -> Outcome:
        def change(city: Document) -> None:
            city.update(registered=True, name=data.name, country=data.country)

        return await apply(envelope, change)

    @handlers.on(CityProfileUpdated)
    async def on_profile_updated(envelope: Envelope, data: CityProfileUpdated) -> Outcome:
        def change(city: Document) -> None:
            city.update(data.model_dump(include={"name", "country"}, exclude_unset=True))

        return await apply(envelope, change)

    @handlers.on(CityStakeholderAdded)
    async def on_stakeholder_added(envelope: Envelope, data: CityStakeholderAdded) -> Outcome:
        def change(city: Document) -> None:
            ids = [i for i in city["stakeholder_ids"] if i != data.stakeholder.stakeholder_id]
            city["stakeholder_ids"] = [*ids, data.stakeholder.stakeholder_id]

        return await apply(envelope, change)

    @handlers.on(CityStakeholderRemoved)
    async def on_stakeholder_removed(envelope: Envelope, data: CityStakeholderRemoved) -> Outcome:
        def change(city: Document) -> None:
            city["stakeholder_ids"] = [
                i for i in city["stakeholder_ids"] if i != data.stakeholder_id
            ]

        return await apply(envelope, change)

    return handlers
