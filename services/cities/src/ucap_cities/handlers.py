"""Command handlers: load the city's events, decide, append, project at once."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ucap_cities import domain
from ucap_cities.domain import City, RegisterCity
from ucap_cities.events import PUBLISHED_EVENTS, CityEvent, StakeholderData
from ucap_shared.app import ServiceRuntime
from ucap_shared.envelope import Envelope
from ucap_shared.events import event_types
from ucap_shared.eventstore import ConcurrencyConflict

EVENT_MODELS = event_types(*PUBLISHED_EVENTS)

Decision = Callable[[City | None], Sequence[CityEvent]]


def to_event(envelope: Envelope) -> CityEvent:
    event: CityEvent = EVENT_MODELS[envelope.type].model_validate(envelope.data)  # type: ignore[assignment]
    return event


async def load_city(runtime: ServiceRuntime, city_id: str) -> tuple[City | None, int]:
    """The city as its stored events leave it, and the version they bring it to."""
    envelopes = await runtime.store.load(city_id)
    city = domain.fold(to_event(e) for e in envelopes)
    return city, envelopes[-1].sequence if envelopes else 0


async def _decide_and_append(
    runtime: ServiceRuntime, city_id: str, decide: Decision, actor: str
) -> list[Envelope]:
    city, version = await load_city(runtime, city_id)
    events = decide(city)
    if not events:
        return []
    envelopes = await runtime.store.append(city_id, version, events, actor=actor)
    await runtime.project_own(envelopes)
    return envelopes


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


async def city_history(runtime: ServiceRuntime, city_id: str) -> list[Envelope]:
    envelopes = await runtime.store.load(city_id)
    if not envelopes:
        raise domain.CityNotFoundError(city_id)
    return envelopes
