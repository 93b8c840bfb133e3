"""Cities' events: this service's copy of each city, pushed to the U-CAPs it takes part in."""

from pydantic import BaseModel

from ucap_reporting.projections.documents import (
    CITIES_VIEW,
    Source,
    apply_change,
    handlers_of,
    narrow,
    ucaps_of_cities,
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
    }


async def _ucaps_of_city(views: ViewStore, city: Document) -> set[str]:
    return await ucaps_of_cities(views, [city["city_id"]])


CITIES = Source("city", CITIES_VIEW, "cities", "city_id", empty_city, _ucaps_of_city)


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
    return handlers_of(
        events_topic("cities"),
        "ucap.city.",
        views,
        [
            (CityRegistered, on_city_registered),
            (CityProfileUpdated, on_city_profile_updated),
            (CityClusterJoined, on_city_cluster_joined),
            (CityClusterLeft, on_city_cluster_left),
        ],
    )
