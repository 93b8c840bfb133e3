"""Command handlers: load the city's events, decide, append, project at once."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ucap_cities import domain
from ucap_cities.domain import City, RegisterCity
from ucap_cities.events import (
    PUBLISHED_EVENTS,
    CityEvent,
    OrganisationRegistered,
    StakeholderData,
)
from ucap_shared.aggregates import AggregateCommits, Loaded
from ucap_shared.app import ServiceRuntime
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventCatalogue
from ucap_shared.eventstore import ConcurrencyConflict

EVENTS = EventCatalogue[CityEvent](*PUBLISHED_EVENTS)

Decision = Callable[[City | None], Sequence[CityEvent]]


def to_event(envelope: Envelope) -> CityEvent:
    return EVENTS.parse(envelope)


def _evolve(city: City | None, envelope: Envelope) -> City:
    if envelope.type == OrganisationRegistered.event_type:
        raise domain.IdTakenError(envelope.subject, "an organisation, not a city")
    return domain.evolve(city, to_event(envelope))


CITIES = AggregateCommits(City, _evolve, kind="city")


async def load_city(runtime: ServiceRuntime, city_id: str) -> Loaded[City]:
    """The city from its snapshot and the commits after it, with its views brought up to it."""
    return await CITIES.load_current(runtime, city_id)


async def _decide_and_append(
    runtime: ServiceRuntime, city_id: str, decide: Decision, actor: str
) -> list[Envelope]:
    loaded = await load_city(runtime, city_id)
    committed = await CITIES.commit(runtime, city_id, loaded, decide(loaded.state), actor=actor)
    return committed.envelopes


async def register_city(runtime: ServiceRuntime, command: RegisterCity, actor: str) -> None:
    try:
        await _decide_and_append(
            runtime, command.city_id, lambda city: domain.register_city(city, command), actor
        )
    except ConcurrencyConflict as error:
        raise domain.CityAlreadyRegisteredError(command.city_id) from error


async def update_profile(
    runtime: ServiceRuntime, city_id: str, changes: Mapping[str, Any], actor: str
) -> list[Envelope]:
    return await _decide_and_append(
        runtime, city_id, lambda city: domain.update_profile(city, city_id, changes), actor
    )


async def add_stakeholder(
    runtime: ServiceRuntime, city_id: str, stakeholder: StakeholderData, actor: str
) -> None:
    await _decide_and_append(
        runtime, city_id, lambda city: domain.add_stakeholder(city, city_id, stakeholder), actor
    )


async def remove_stakeholder(
    runtime: ServiceRuntime, city_id: str, stakeholder_id: str, actor: str
) -> None:
    await _decide_and_append(
        runtime,
        city_id,
        lambda city: domain.remove_stakeholder(city, city_id, stakeholder_id),
        actor,
    )


async def join_cluster(runtime: ServiceRuntime, city_id: str, cluster: str, actor: str) -> None:
    await _decide_and_append(
        runtime, city_id, lambda city: domain.join_cluster(city, city_id, cluster), actor
    )


async def leave_cluster(runtime: ServiceRuntime, city_id: str, cluster: str, actor: str) -> None:
    await _decide_and_append(
        runtime, city_id, lambda city: domain.leave_cluster(city, city_id, cluster), actor
    )
