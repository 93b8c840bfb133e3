"""The city aggregate: its state folded from events, and the rules of each command.

Pure: no I/O. A command either returns the events it causes (possibly none)
or raises one of the errors below, before anything is written.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ucap_cities.events import (
    CityEvent,
    CityKind,
    CityProfileUpdated,
    CityRegistered,
    ClusterJoined,
    ClusterLeft,
    Population,
    StakeholderAdded,
    StakeholderData,
    StakeholderRemoved,
    WorldRegion,
)
from ucap_shared.problems import ConflictError, FieldProblem, InvalidInputError, NotFoundError

PROFILE_FIELDS = (
    "kind",
    "name",
    "native_name",
    "region",
    "country",
    "world_region",
    "population",
    "area_km2",
)
REQUIRED_PROFILE_FIELDS = frozenset({"kind", "name", "country", "world_region", "population"})
"""Profile fields every city has: an update may change them, never clear them."""


class IdTakenError(ConflictError):
    """The id names an aggregate of another kind: cities and organisations share one id space
    (one event store and one topic, keyed by id)."""

    def __init__(self, aggregate_id: str, taken_by: str) -> None:
        super().__init__(f"{aggregate_id!r} is the id of {taken_by}", id=aggregate_id)


class CityNotFoundError(NotFoundError):
    def __init__(self, city_id: str) -> None:
        super().__init__(f"no city {city_id!r}", city_id=city_id)


class CityAlreadyRegisteredError(ConflictError):
    def __init__(self, city_id: str) -> None:
        super().__init__(f"city {city_id!r} is already registered", city_id=city_id)


class StakeholderAlreadyAddedError(ConflictError):
    def __init__(self, city_id: str, stakeholder_id: str) -> None:
        super().__init__(
            f"city {city_id!r} already has a stakeholder {stakeholder_id!r}",
            city_id=city_id,
            stakeholder_id=stakeholder_id,
        )


class StakeholderNotFoundError(NotFoundError):
    def __init__(self, city_id: str, stakeholder_id: str) -> None:
        super().__init__(
            f"city {city_id!r} has no stakeholder {stakeholder_id!r}",
            city_id=city_id,
            stakeholder_id=stakeholder_id,
        )


class AlreadyClusterMemberError(ConflictError):
    def __init__(self, city_id: str, cluster: str) -> None:
        super().__init__(
            f"city {city_id!r} is already in the cluster {cluster!r}",
            city_id=city_id,
            cluster=cluster,
        )


class NotClusterMemberError(NotFoundError):
    def __init__(self, city_id: str, cluster: str) -> None:
        super().__init__(
            f"city {city_id!r} is not in the cluster {cluster!r}", city_id=city_id, cluster=cluster
        )


@dataclass(frozen=True)
class City:
    """A registered city as its events leave it."""

    city_id: str
    name: str
    native_name: str | None
    region: str | None
    country: str
    world_region: WorldRegion
    population: Population
    area_km2: float | None
    clusters: tuple[str, ...] = ()
    stakeholders: tuple[StakeholderData, ...] = ()
    version: int = 0
    kind: CityKind = CityKind.CITY

    def stakeholder(self, stakeholder_id: str) -> StakeholderData | None:
        return next((s for s in self.stakeholders if s.stakeholder_id == stakeholder_id), None)


@dataclass(frozen=True)
class RegisterCity:
    city_id: str
    name: str
    native_name: str | None
    region: str | None
    country: str
    world_region: WorldRegion
    population: Population
    area_km2: float | None
    clusters: tuple[str, ...] = ()
    stakeholders: tuple[StakeholderData, ...] = field(default=())
    kind: CityKind = CityKind.CITY


def evolve(city: City | None, event: CityEvent) -> City:
    """The city after one more of its events."""
    if isinstance(event, CityRegistered):
        if city is not None:
            raise ValueError(f"{event.city_id} registered twice")
        return City(
            city_id=event.city_id,
            name=event.name,
            native_name=event.native_name,
            region=event.region,
            country=event.country,
            world_region=event.world_region,
            population=event.population,
            area_km2=event.area_km2,
            clusters=tuple(event.clusters),
            version=1,
            kind=event.kind,
        )
    if city is None:
        raise ValueError(f"{event.event_type} before ucap.city.registered.v1")
    version = city.version + 1
    if isinstance(event, CityProfileUpdated):
        return replace(city, **event.changes(), version=version)
    if isinstance(event, StakeholderAdded):
        return replace(city, stakeholders=(*city.stakeholders, event.stakeholder), version=version)
    if isinstance(event, StakeholderRemoved):
        kept = tuple(s for s in city.stakeholders if s.stakeholder_id != event.stakeholder_id)
        return replace(city, stakeholders=kept, version=version)
    if isinstance(event, ClusterJoined):
        return replace(city, clusters=(*city.clusters, event.cluster), version=version)
    kept_clusters = tuple(c for c in city.clusters if c != event.cluster)
    return replace(city, clusters=kept_clusters, version=version)


def fold(events: Iterable[CityEvent]) -> City | None:
    city: City | None = None
    for event in events:
        city = evolve(city, event)
    return city


def register_city(
    city: City | None, command: RegisterCity
) -> list[CityRegistered | StakeholderAdded]:
    if city is not None:
        raise CityAlreadyRegisteredError(command.city_id)
    registered = CityRegistered(
        city_id=command.city_id,
        name=command.name,
        native_name=command.native_name,
        region=command.region,
        country=command.country,
        world_region=command.world_region,
        population=command.population,
        area_km2=command.area_km2,
        clusters=list(command.clusters),
        kind=command.kind,
    )
    added = [StakeholderAdded(city_id=command.city_id, stakeholder=s) for s in command.stakeholders]
    return [registered, *added]


def update_profile(
    city: City | None, city_id: str, changes: Mapping[str, Any]
) -> list[CityProfileUpdated]:
    """Only the fields whose value differs go into the event; none differ, no event."""
    city = _existing(city, city_id)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    cleared = [
        FieldProblem(loc=[name], msg="may be changed, not removed")
        for name, value in changes.items()
        if value is None and name in REQUIRED_PROFILE_FIELDS
    ]
    if cleared:
        raise InvalidInputError(cleared)
    changed = {name: value for name, value in changes.items() if getattr(city, name) != value}
    if not changed:
        return []
    return [CityProfileUpdated(city_id=city_id, **changed)]


def add_stakeholder(
    city: City | None, city_id: str, stakeholder: StakeholderData
) -> list[StakeholderAdded]:
    city = _existing(city, city_id)
    if city.stakeholder(stakeholder.stakeholder_id) is not None:
        raise StakeholderAlreadyAddedError(city_id, stakeholder.stakeholder_id)
    return [StakeholderAdded(city_id=city_id, stakeholder=stakeholder)]


def remove_stakeholder(
    city: City | None, city_id: str, stakeholder_id: str
) -> list[StakeholderRemoved]:
    city = _existing(city, city_id)
    if city.stakeholder(stakeholder_id) is None:
        raise StakeholderNotFoundError(city_id, stakeholder_id)
    return [StakeholderRemoved(city_id=city_id, stakeholder_id=stakeholder_id)]


def join_cluster(city: City | None, city_id: str, cluster: str) -> list[ClusterJoined]:
    city = _existing(city, city_id)
    if cluster in city.clusters:
        raise AlreadyClusterMemberError(city_id, cluster)
    return [ClusterJoined(city_id=city_id, cluster=cluster)]


def leave_cluster(city: City | None, city_id: str, cluster: str) -> list[ClusterLeft]:
    city = _existing(city, city_id)
    if cluster not in city.clusters:
        raise NotClusterMemberError(city_id, cluster)
    return [ClusterLeft(city_id=city_id, cluster=cluster)]


def _existing(city: City | None, city_id: str) -> City:
    if city is None:
        raise CityNotFoundError(city_id)
    return city
