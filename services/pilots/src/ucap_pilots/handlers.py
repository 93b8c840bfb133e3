"""Command handlers: load the pilot's events, decide, append, project at once.

Who may change what (``access``) is checked on the pilot as its events make
it, before any rule of the domain. A check or rule that fails raises before
anything is appended, so a refused or failed write emits no event. The
events' actor is the caller's subject.

Two writers racing on one pilot: the event store lets one win and the other
gets 409 (``ConcurrencyConflict``) — except progress updates, which reload and
retry, since partner cities report concurrently by design. Within one process
they take turns per pilot, so only replicas race.

A pilot names a U-CAP (``ucap_id``) only if this service knows the U-CAP, from
reporting's events, and the pilot's lead city is its lead or a counterpart (422
otherwise). No command may grow a pilot past its limits (``capacity``: 409);
proposals and changes that name a U-CAP anew take turns per U-CAP within a
process, so its count of pilots holds against concurrent requests.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

from ucap_pilots import access, capacity, domain, views
from ucap_pilots.domain import Action, Pilot, RecordedUpdate
from ucap_pilots.events import (
    PUBLISHED_EVENTS,
    FundingAward,
    Indicator,
    Milestone,
    PilotDetailsUpdated,
    PilotEvent,
    PilotProposed,
    ProgressUpdate,
)
from ucap_shared.aggregates import AggregateCommits, Loaded
from ucap_shared.app import ServiceRuntime
from ucap_shared.auth import Principal
from ucap_shared.dates import PartialDate
from ucap_shared.envelope import Envelope
from ucap_shared.errors import ConflictError, NotFoundError
from ucap_shared.events import EventCatalogue
from ucap_shared.eventstore import ConcurrencyConflict
from ucap_shared.keyed_locks import KeyedLocks

log = logging.getLogger(__name__)

EVENTS = EventCatalogue[PilotEvent](*PUBLISHED_EVENTS)
PROGRESS_ATTEMPTS = 50
_REPORTING = KeyedLocks()
_JOINING = KeyedLocks()


def fold_envelopes(envelopes: list[Envelope]) -> Pilot | None:
    return domain.fold((EVENTS.parse(envelope), envelope.time) for envelope in envelopes)


def _evolve(pilot: Pilot | None, envelope: Envelope) -> Pilot:
    return domain.evolve(pilot, EVENTS.parse(envelope), envelope.time)


PILOTS = AggregateCommits(Pilot, _evolve, kind="pilot")


async def load_pilot(runtime: ServiceRuntime, pilot_id: str, *, heal: bool = True) -> Loaded[Pilot]:
    """The pilot from its snapshot and the commits after it, with its views brought up to it.

    ``heal=False`` leaves the views as they are: for a retry after losing a race,
    whose winner is projecting its own commit.
    """
    if heal:
        return await PILOTS.load_current(runtime, pilot_id)
    return await PILOTS.load(runtime.store, pilot_id)


async def pilot_as_of(runtime: ServiceRuntime, pilot_id: str, moment: datetime) -> Pilot:
    """The pilot as it stood at ``moment`` (by the time its events were recorded)."""
    pilot = fold_envelopes(await runtime.store.as_of(pilot_id, moment))
    if pilot is None:
        raise NotFoundError(f"no pilot {pilot_id} as of {moment.isoformat()}", pilot_id=pilot_id)
    return pilot


async def _changeable(
    runtime: ServiceRuntime,
    pilot_id: str,
    caller: Principal,
    *,
    heal: bool = True,
    remembered: bool = False,
) -> tuple[Pilot, Loaded[Pilot]]:
    """The pilot as loaded, if it exists (404) and ``caller`` may change it (403).

    ``remembered``: as this process last knew it, if it did, without reading.
    """
    known = PILOTS.remembered(runtime.store, pilot_id) if remembered else None
    loaded = known or await load_pilot(runtime, pilot_id, heal=heal)
    if loaded.state is None:
        raise NotFoundError(f"no pilot {pilot_id}", pilot_id=pilot_id)
    access.check_change(caller, loaded.state)
    return loaded.state, loaded


async def _commit(
    runtime: ServiceRuntime,
    pilot_id: str,
    loaded: Loaded[Pilot],
    events: list[PilotEvent],
    caller: Principal,
) -> tuple[Pilot, list[Envelope]]:
    if events:
        after = loaded.state
        for event in events:
            after = domain.evolve(after, event, datetime.now(UTC))
        assert after is not None
        capacity.check_growth(loaded.state, after)
    committed = await PILOTS.commit(runtime, pilot_id, loaded, events, actor=caller.subject)
    assert committed.state is not None
    return committed.state, committed.envelopes


async def _change(
    runtime: ServiceRuntime,
    pilot_id: str,
    decide: Callable[[Pilot], list[PilotEvent]],
    caller: Principal,
) -> Pilot:
    pilot, loaded = await _changeable(runtime, pilot_id, caller)
    changed, _ = await _commit(runtime, pilot_id, loaded, decide(pilot), caller)
    return changed


def _joining(ucap_id: str | None) -> AbstractAsyncContextManager[None]:
    """Turns per U-CAP for what names one; nothing to wait for otherwise."""
    return _JOINING.hold(ucap_id) if ucap_id else contextlib.nullcontext()


async def _ucap_cities(runtime: ServiceRuntime, ucap_id: str | None) -> set[str] | None:
    return await views.ucap_cities(runtime.database, ucap_id) if ucap_id else None


def _newly_named(pilot: Pilot | None, events: list[PilotEvent]) -> str | None:
    """The U-CAP the events make the pilot name that it never named before, if any."""
    named = set(pilot.ucaps_named) if pilot else set()
    for event in events:
        if isinstance(event, PilotProposed | PilotDetailsUpdated):
            ucap_id = event.ucap_id
            if ucap_id and ucap_id not in named:
                return ucap_id
    return None


async def _commit_joining(
    runtime: ServiceRuntime,
    pilot_id: str,
    loaded: Loaded[Pilot],
    events: list[PilotEvent],
    caller: Principal,
) -> Pilot:
    """Commit; one that makes the pilot name a U-CAP anew counts the U-CAP's pilots first
    (409 when full), taking turns per U-CAP so no two counts miss each other's pilot."""
    ucap_id = _newly_named(loaded.state, events)
    async with _joining(ucap_id):
        if ucap_id is not None:
            others = await views.pilots_naming(runtime.database, ucap_id, besides=pilot_id)
            capacity.check_ucap_room(pilot_id, ucap_id, others)
        pilot, _ = await _commit(runtime, pilot_id, loaded, events, caller)
    return pilot


async def propose_pilot(
    runtime: ServiceRuntime, proposed: PilotProposed, caller: Principal
) -> Pilot:
    access.check_propose(caller, proposed)
    loaded = await load_pilot(runtime, proposed.pilot_id)
    city_ids = [proposed.lead_city_id, *(partner.city_id for partner in proposed.partners)]
    cities = await views.known_cities(runtime.database, city_ids)
    mous = await views.known_mous(runtime.database, list(proposed.mou_ids))
    ucap = await _ucap_cities(runtime, proposed.ucap_id)
    events = domain.propose_pilot(loaded.state, proposed, cities, mous, ucap)
    return await _commit_joining(runtime, proposed.pilot_id, loaded, events, caller)


async def change_status(
    runtime: ServiceRuntime,
    pilot_id: str,
    action: Action,
    effective_on: PartialDate | None,
    note: str | None,
    caller: Principal,
) -> Pilot:
    return await _change(
        runtime,
        pilot_id,
        lambda pilot: domain.change_status(pilot, action, effective_on, note),
        caller,
    )


async def update_details(
    runtime: ServiceRuntime, changes: PilotDetailsUpdated, caller: Principal
) -> Pilot:
    pilot, loaded = await _changeable(runtime, changes.pilot_id, caller)
    partners = changes.partners or ()
    cities = await views.known_cities(runtime.database, [p.city_id for p in partners])
    mous = await views.known_mous(runtime.database, list(changes.mou_ids or ()))
    ucap = await _ucap_cities(runtime, changes.ucap_id)
    events = domain.update_details(pilot, changes, cities, mous, ucap)
    return await _commit_joining(runtime, changes.pilot_id, loaded, events, caller)


async def add_milestone(
    runtime: ServiceRuntime, pilot_id: str, milestone: Milestone, caller: Principal
) -> Pilot:
    return await _change(
        runtime, pilot_id, lambda pilot: domain.add_milestone(pilot, milestone), caller
    )


async def complete_milestone(
    runtime: ServiceRuntime,
    pilot_id: str,
    milestone_id: str,
    completed_on: PartialDate,
    caller: Principal,
) -> Pilot:
    return await _change(
        runtime,
        pilot_id,
        lambda pilot: domain.complete_milestone(pilot, milestone_id, completed_on),
        caller,
    )


async def award_funding(
    runtime: ServiceRuntime, pilot_id: str, award: FundingAward, caller: Principal
) -> Pilot:
    return await _change(
        runtime, pilot_id, lambda pilot: domain.award_funding(pilot, award), caller
    )


async def add_indicator(
    runtime: ServiceRuntime, pilot_id: str, indicator: Indicator, caller: Principal
) -> Pilot:
    return await _change(
        runtime, pilot_id, lambda pilot: domain.add_indicator(pilot, indicator), caller
    )


@dataclass(frozen=True)
class ProgressResult:
    update: RecordedUpdate
    replayed: bool
    """True when the key was recorded before: this is the first request's result."""


def _replay(pilot: Pilot, update: ProgressUpdate) -> ProgressResult | None:
    recorded = pilot.update(update.update_id)
    if recorded is None:
        return None
    if not domain.same_update(recorded, update):
        raise ConflictError(
            "this idempotency key was used for a different progress update",
            pilot_id=pilot.pilot_id,
            update_id=update.update_id,
        )
    return ProgressResult(update=recorded, replayed=True)


async def report_progress(
    runtime: ServiceRuntime, pilot_id: str, update: ProgressUpdate, caller: Principal
) -> ProgressResult:
    """Record the update once per idempotency key (its ``update_id``).

    Concurrent requests with one key all try to append at the same version;
    the store lets one win. The others reload, find the key recorded, and
    answer with the first result. Requests with other keys that lose the race
    reload and retry.
    """
    async with _REPORTING.hold(pilot_id):
        return await _report_progress(runtime, pilot_id, update, caller)


async def _report_progress(
    runtime: ServiceRuntime, pilot_id: str, update: ProgressUpdate, caller: Principal
) -> ProgressResult:
    for attempt in range(PROGRESS_ATTEMPTS):
        # First as this process knows it: if another replica appended since, the append
        # fails and the next attempt reads the store (and a gap it left heals the view).
        pilot, loaded = await _changeable(
            runtime, pilot_id, caller, heal=attempt == 0, remembered=attempt == 0
        )
        access.check_reporter(caller, update)
        replay = _replay(pilot, update)
        if replay is not None:
            if attempt > 0:
                await runtime.project_own(loaded.newer)  # the concurrent first request's
            return replay
        events = domain.report_progress(pilot, update)
        try:
            _, envelopes = await _commit(runtime, pilot_id, loaded, events, caller)
        except ConcurrencyConflict:
            # Spread the losers out a little so they do not all collide again at once.
            await asyncio.sleep(random.uniform(0, 0.005))  # noqa: S311 - not for security
            continue
        recorded = RecordedUpdate(**update.model_dump(), recorded_at=envelopes[0].time)
        return ProgressResult(update=recorded, replayed=False)
    log.warning("progress update kept losing races", extra={"pilot_id": pilot_id})
    raise ConflictError(f"{pilot_id} is changing too fast; retry", pilot_id=pilot_id)
