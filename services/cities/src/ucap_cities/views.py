"""The ``cities_view`` collection: projections of the service's own events, and its queries.

One document per city, ``_id`` = city id, shaped as the API returns it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ucap_cities.events import (
    CityProfileUpdated,
    CityRegistered,
    ClusterJoined,
    ClusterLeft,
    StakeholderAdded,
    StakeholderData,
    StakeholderRemoved,
)
from ucap_cities.organisations.views import ORGANISATION_EVENT_PREFIX, project_organisations
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.queries import page_in_id_order
from ucap_shared.views import WITHOUT_BOOKKEEPING, Outcome, apply_event

Document = dict[str, Any]
Change = Callable[[Document | None], Document]
CITIES_VIEW = "cities_view"
CITY_EVENT_PREFIX = "ucap.city."


def cities_view(database: AsyncDatabase[Document]) -> AsyncCollection[Document]:
    return database[CITIES_VIEW]


def city_handlers(topic: str, database: AsyncDatabase[Document]) -> Handlers:
    """The projections of the service's own topic into ``cities_view`` and, for
    organisations, ``organisations_view``."""
    view = cities_view(database)
    handlers = Handlers(topic, (CITY_EVENT_PREFIX, ORGANISATION_EVENT_PREFIX))
    project_organisations(handlers, database)

    async def apply(envelope: Envelope, change: Change) -> Outcome:
        def project(current: Document | None) -> Document:
            new: Document = change(current)
            return {**new, "version": envelope.sequence, "updated_at": envelope.time}

        return await apply_event(
            view,
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=project,
            contiguous=True,
        )

    @handlers.on(CityRegistered)
    async def on_registered(envelope: Envelope, data: CityRegistered) -> Outcome:
        def change(current: Document | None) -> Document:
            return {
                "id": data.city_id,
                "kind": data.kind.value,
                "name": data.name,
                "native_name": data.native_name,
                "region": data.region,
                "country": data.country,
                "world_region": data.world_region.value,
                "population": data.population.model_dump(mode="json"),
                "area_km2": data.area_km2,
                "clusters": list(data.clusters),
                "stakeholders": [],
                "registered_at": envelope.time,
            }

        return await apply(envelope, change)

    @handlers.on(CityProfileUpdated)
    async def on_profile_updated(envelope: Envelope, data: CityProfileUpdated) -> Outcome:
        changed = {k: v for k, v in data.model_dump(mode="json").items() if k != "city_id"}
        return await apply(envelope, lambda current: {**_existing(current), **changed})

    @handlers.on(StakeholderAdded)
    async def on_stakeholder_added(envelope: Envelope, data: StakeholderAdded) -> Outcome:
        def change(current: Document | None) -> Document:
            city = _existing(current)
            return {**city, "stakeholders": [*city["stakeholders"], _stakeholder(data.stakeholder)]}

        return await apply(envelope, change)

    @handlers.on(StakeholderRemoved)
    async def on_stakeholder_removed(envelope: Envelope, data: StakeholderRemoved) -> Outcome:
        def change(current: Document | None) -> Document:
            city = _existing(current)
            kept = [s for s in city["stakeholders"] if s["id"] != data.stakeholder_id]
            return {**city, "stakeholders": kept}

        return await apply(envelope, change)

    @handlers.on(ClusterJoined)
    async def on_cluster_joined(envelope: Envelope, data: ClusterJoined) -> Outcome:
        def change(current: Document | None) -> Document:
            city = _existing(current)
            return {**city, "clusters": [*city["clusters"], data.cluster]}

        return await apply(envelope, change)

    @handlers.on(ClusterLeft)
    async def on_cluster_left(envelope: Envelope, data: ClusterLeft) -> Outcome:
        def change(current: Document | None) -> Document:
            city = _existing(current)
            return {**city, "clusters": [c for c in city["clusters"] if c != data.cluster]}

        return await apply(envelope, change)

    return handlers


def _existing(current: Document | None) -> Document:
    if current is None:
        # The sequence guard only lets sequence 1 (registration) start a document.
        raise ValueError("city view document missing for an event after registration")
    return current


def _stakeholder(stakeholder: StakeholderData) -> Document:
    return {
        "id": stakeholder.stakeholder_id,
        "name": stakeholder.name,
        "kind": stakeholder.kind.value,
        "website": stakeholder.website,
    }


# --- queries ------------------------------------------------------------------


@dataclass(frozen=True)
class CityFilter:
    country: str | None = None
    world_region: str | None = None
    cluster: str | None = None

    def query(self) -> Document:
        query: Document = {}
        if self.country is not None:
            query["country"] = self.country
        if self.world_region is not None:
            query["world_region"] = self.world_region
        if self.cluster is not None:
            query["clusters"] = self.cluster
        return query


async def find_city(database: AsyncDatabase[Document], city_id: str) -> Document | None:
    return await cities_view(database).find_one({"_id": city_id}, projection=WITHOUT_BOOKKEEPING)


async def list_cities(
    database: AsyncDatabase[Document], where: CityFilter, *, limit: int, after: str | None
) -> tuple[list[Document], str | None]:
    """One page of cities in id order, and the cursor of the next page (None on the last)."""
    return await page_in_id_order(
        cities_view(database),
        where.query(),
        limit=limit,
        after=after,
        projection=WITHOUT_BOOKKEEPING,
    )
