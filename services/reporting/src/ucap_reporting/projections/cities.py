"""Cities' events: this service's copy of each city, pushed to the U-CAPs it takes part in."""

from pydantic import BaseModel

from ucap_reporting.capacity import CITY_COPY_BYTES
from ucap_reporting.projections.documents import (
    CITIES_VIEW,
    Source,
    apply_change,
    handlers_of,
    narrow,
    ucaps_of_cities,
)
from ucap_reporting.projections.organisations import (
    OrganisationRegistered,
    on_organisation_registered,
)
from ucap_reporting.store import ViewStore
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome


class Population(BaseModel):
    model_config = narrow

    known: bool = False
    value: int | None = None
    year: int | None = None


class CityRegistered(EventData):
    model_config = narrow
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
    kind: str = "city"


class CityProfileUpdated(EventData):
    """Only the changed fields are present."""

    model_config = narrow
    event_type = "ucap.city.profile_updated.v1"

    city_id: str
    name: str | None = None
    native_name: str | None = None
    region: str | None = None
    country: str | None = None
    world_region: str | None = None
    population: Population | None = None
    area_km2: float | None = None
    kind: str | None = None


class Stakeholder(BaseModel):
    model_config = narrow

    stakeholder_id: str
    name: str
    kind: str
    website: str | None = None


class CityStakeholderAdded(EventData):
    model_config = narrow
    event_type = "ucap.city.stakeholder_added.v1"

    city_id: str
    stakeholder: Stakeholder


class CityStakeholderRemoved(EventData):
    model_config = narrow
    event_type = "ucap.city.stakeholder_removed.v1"

    city_id: str
    stakeholder_id: str


class CityClusterJoined(EventData):
    model_config = narrow
    event_type = "ucap.city.cluster_joined.v1"

    city_id: str
    cluster: str


class CityClusterLeft(EventData):
    model_config = narrow
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
        "kind": "city",
        "stakeholders": [],
    }


async def _ucaps_of_city(views: ViewStore, city: Document) -> set[str]:
    return await ucaps_of_cities(views, [city["city_id"]])


CITIES = Source(
    "city",
    CITIES_VIEW,
    "cities",
    "city_id",
    empty_city,
    _ucaps_of_city,
    budget=CITY_COPY_BYTES,
    trim=lambda city: {**city, "stakeholders": []},
)


async def on_city_registered(views: ViewStore, envelope: Envelope, data: CityRegistered) -> Outcome:
    profile = data.model_dump(mode="json")
    return await apply_change(
        views, CITIES, envelope, lambda city: {**city, **profile, "registered": True}
    )


async def on_city_profile_updated(
    views: ViewStore, envelope: Envelope, data: CityProfileUpdated
) -> Outcome:
    changes = data.model_dump(mode="json", exclude_unset=True)
    return await apply_change(views, CITIES, envelope, lambda city: {**city, **changes})


def _without(city: Document, stakeholder_id: str) -> list[Document]:
    return [s for s in city.get("stakeholders", []) if s["stakeholder_id"] != stakeholder_id]


async def on_city_stakeholder_added(
    views: ViewStore, envelope: Envelope, data: CityStakeholderAdded
) -> Outcome:
    added = data.stakeholder.model_dump(mode="json")

    def change(city: Document) -> Document:
        kept = _without(city, data.stakeholder.stakeholder_id)
        return {**city, "stakeholders": sorted([*kept, added], key=lambda s: s["stakeholder_id"])}

    return await apply_change(views, CITIES, envelope, change)


async def on_city_stakeholder_removed(
    views: ViewStore, envelope: Envelope, data: CityStakeholderRemoved
) -> Outcome:
    return await apply_change(
        views,
        CITIES,
        envelope,
        lambda city: {**city, "stakeholders": _without(city, data.stakeholder_id)},
    )


async def on_city_cluster_joined(
    views: ViewStore, envelope: Envelope, data: CityClusterJoined
) -> Outcome:
    return await apply_change(
        views,
        CITIES,
        envelope,
        lambda city: {**city, "clusters": sorted({*city["clusters"], data.cluster})},
    )


async def on_city_cluster_left(
    views: ViewStore, envelope: Envelope, data: CityClusterLeft
) -> Outcome:
    return await apply_change(
        views,
        CITIES,
        envelope,
        lambda city: {**city, "clusters": [c for c in city["clusters"] if c != data.cluster]},
    )


def city_handlers(views: ViewStore) -> Handlers:
    """The cities topic carries cities' and organisations' events: every ``ucap.`` type
    this service does not read is ignored."""
    return handlers_of(
        events_topic("cities"),
        "ucap.",
        views,
        [
            (CityRegistered, on_city_registered),
            (CityProfileUpdated, on_city_profile_updated),
            (CityStakeholderAdded, on_city_stakeholder_added),
            (CityStakeholderRemoved, on_city_stakeholder_removed),
            (OrganisationRegistered, on_organisation_registered),
            (CityClusterJoined, on_city_cluster_joined),
            (CityClusterLeft, on_city_cluster_left),
        ],
    )
