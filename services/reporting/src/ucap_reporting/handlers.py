"""Command handlers: load the U-CAP's events, decide, append, project at once.

A rule that fails, or a caller who may not make the change (``access``),
raises before anything is appended, so a failed or refused write emits no
event. Whether the caller may change a U-CAP is judged on the U-CAP as loaded
for this write; the append at that version makes a concurrent change of the
lead a 409, never a write past the check. Two writers racing on one U-CAP: one
wins, the other gets 409.

The lead and counterpart cities a command names must be registered in this
service's copy of the cities (``references``: 422 naming each unknown one), and no
command may grow the U-CAP past its size (``capacity``: 409).
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from ucap_reporting import access, capacity, domain, references
from ucap_reporting.cooperation import own_events_by
from ucap_reporting.domain import Ucap
from ucap_reporting.events import (
    PUBLISHED_EVENTS,
    Activity,
    Deliverable,
    DeliveryStatus,
    UcapCreated,
    UcapEvent,
)
from ucap_shared.aggregates import AggregateCommits, Loaded
from ucap_shared.app import ServiceRuntime
from ucap_shared.auth import Principal
from ucap_shared.dates import PartialDate
from ucap_shared.envelope import Envelope
from ucap_shared.errors import NotFoundError
from ucap_shared.events import EventCatalogue

EVENTS = EventCatalogue[UcapEvent](*PUBLISHED_EVENTS)


def fold_envelopes(envelopes: list[Envelope]) -> Ucap | None:
    return domain.fold(EVENTS.parse(envelope) for envelope in envelopes)


def _evolve(ucap: Ucap | None, envelope: Envelope) -> Ucap:
    return domain.evolve(ucap, EVENTS.parse(envelope))


UCAPS = AggregateCommits(Ucap, _evolve, kind="ucap")


async def load_ucap(runtime: ServiceRuntime, ucap_id: str) -> Loaded[Ucap]:
    """The U-CAP from its snapshot and the commits after it, with its views brought up to it."""
    return await UCAPS.load_current(runtime, ucap_id)


async def ucap_as_of(runtime: ServiceRuntime, ucap_id: str, until: datetime) -> Ucap:
    ucap = fold_envelopes(await runtime.store.load(ucap_id, until=until))
    if ucap is None:
        raise NotFoundError(f"no U-CAP {ucap_id} on that date", ucap_id=ucap_id)
    return ucap


async def ucap_on(runtime: ServiceRuntime, ucap_id: str, day: date, *, past: bool) -> Ucap:
    """The U-CAP in cooperation time: by the dates its facts carry (``cooperation``)."""
    ucap = fold_envelopes(own_events_by(await runtime.store.load(ucap_id), day, past=past))
    if ucap is None:
        raise NotFoundError(f"no U-CAP {ucap_id} on that date", ucap_id=ucap_id)
    return ucap


async def _commit(
    runtime: ServiceRuntime, ucap_id: str, loaded: Loaded[Ucap], events: list[UcapEvent], actor: str
) -> Ucap:
    capacity.check_growth(loaded.state, events)
    committed = await UCAPS.commit(runtime, ucap_id, loaded, events, actor=actor)
    assert committed.state is not None
    return committed.state


Decide = Callable[[Ucap], list[UcapEvent]]
Check = Callable[[Ucap], None]


async def _change(
    runtime: ServiceRuntime, ucap_id: str, check: Check, decide: Decide, caller: Principal
) -> Ucap:
    loaded = await load_ucap(runtime, ucap_id)
    ucap = loaded.state
    if ucap is None:
        raise NotFoundError(f"no U-CAP {ucap_id}", ucap_id=ucap_id)
    check(ucap)
    return await _commit(runtime, ucap_id, loaded, decide(ucap), caller.subject)


async def create_ucap(runtime: ServiceRuntime, created: UcapCreated, caller: Principal) -> Ucap:
    access.check_create(caller, created)
    loaded = await load_ucap(runtime, created.ucap_id)
    events = domain.create_ucap(loaded.state, created)
    await references.check_cities(runtime.database, dict(created))
    return await _commit(runtime, created.ucap_id, loaded, events, caller.subject)


async def update_sections(
    runtime: ServiceRuntime, ucap_id: str, changes: dict[str, Any], caller: Principal
) -> Ucap:
    loaded = await load_ucap(runtime, ucap_id)
    ucap = loaded.state
    if ucap is None:
        raise NotFoundError(f"no U-CAP {ucap_id}", ucap_id=ucap_id)
    access.check_sections(caller, ucap, changes)
    events = domain.update_sections(ucap, changes)
    await references.check_cities(runtime.database, changes)
    return await _commit(runtime, ucap_id, loaded, events, caller.subject)


async def log_activity(
    runtime: ServiceRuntime, ucap_id: str, activity: Activity, caller: Principal
) -> Ucap:
    return await _change(
        runtime,
        ucap_id,
        lambda u: access.check_change(caller, u, "log an activity on"),
        lambda u: domain.log_activity(u, activity),
        caller,
    )


async def update_activity(
    runtime: ServiceRuntime,
    ucap_id: str,
    activity_id: str,
    changes: dict[str, Any],
    caller: Principal,
) -> Ucap:
    return await _change(
        runtime,
        ucap_id,
        lambda u: access.check_change(caller, u, "edit an activity of"),
        lambda u: domain.update_activity(u, activity_id, changes),
        caller,
    )


async def remove_activity(
    runtime: ServiceRuntime, ucap_id: str, activity_id: str, caller: Principal
) -> Ucap:
    return await _change(
        runtime,
        ucap_id,
        lambda u: access.check_change(caller, u, "remove an activity of"),
        lambda u: domain.remove_activity(u, activity_id),
        caller,
    )


async def deliver(
    runtime: ServiceRuntime,
    ucap_id: str,
    status: DeliveryStatus,
    delivered_on: PartialDate,
    deliverable: Deliverable | None,
    caller: Principal,
) -> Ucap:
    return await _change(
        runtime,
        ucap_id,
        lambda u: access.check_change(caller, u, "deliver"),
        lambda u: domain.deliver(u, status, delivered_on, deliverable),
        caller,
    )
