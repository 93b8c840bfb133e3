"""Command handlers: load the MoU's events, decide, append, project at once.

A rule that fails raises before anything is appended, so a failed write emits
no event. Two writers racing on one MoU: the event store lets one win and the
other gets 409 (``ConcurrencyConflict``). Who may make a change is decided on
the MoU as loaded (its parties at that version, see ``access``); the append
expects that version, so parties changing in between make the write a 409
rather than let it through.

A draft or a new party that would make a city party to more MoUs than
``capacity.MOUS_PER_CITY``, or a MoU have more parties than ``capacity.MAX_PARTIES``,
is refused (409) once the domain's rules hold. Commands that make cities parties take
turns per city within a process, so no two counts miss each other's MoU.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import date

from ucap_mous import access, capacity, domain, views
from ucap_mous.domain import Amendment, MoU, Signature, Termination
from ucap_mous.events import PUBLISHED_EVENTS, MouDrafted, MouEvent, Party
from ucap_shared.aggregates import AggregateCommits, Loaded
from ucap_shared.app import ServiceRuntime
from ucap_shared.auth import Principal
from ucap_shared.dates import today
from ucap_shared.envelope import Envelope
from ucap_shared.errors import NotFoundError
from ucap_shared.events import EventCatalogue
from ucap_shared.eventstore import ConcurrencyConflict, envelopes_of
from ucap_shared.keyed_locks import KeyedLocks

log = logging.getLogger(__name__)

EVENTS = EventCatalogue[MouEvent](*PUBLISHED_EVENTS)


def _evolve(mou: MoU | None, envelope: Envelope) -> MoU:
    return domain.evolve(mou, EVENTS.parse(envelope))


MOUS = AggregateCommits(MoU, _evolve, kind="mou")
_JOINING = KeyedLocks()
"""Turns per city for commands that make it a party, so its count holds."""


async def load_mou(runtime: ServiceRuntime, mou_id: str) -> Loaded[MoU]:
    """The MoU from its snapshot and the commits after it, with its views brought up to it."""
    return await MOUS.load_current(runtime, mou_id)


async def _existing(runtime: ServiceRuntime, mou_id: str) -> tuple[MoU, Loaded[MoU]]:
    loaded = await load_mou(runtime, mou_id)
    if loaded.state is None:
        raise NotFoundError(f"no MoU {mou_id}", mou_id=mou_id)
    return loaded.state, loaded


async def _commit(
    runtime: ServiceRuntime,
    mou_id: str,
    loaded: Loaded[MoU],
    events: list[MouEvent],
    actor: str,
    *,
    causation_id: str | None = None,
) -> MoU:
    committed = await MOUS.commit(
        runtime, mou_id, loaded, events, actor=actor, causation_id=causation_id
    )
    assert committed.state is not None
    return committed.state


@contextlib.asynccontextmanager
async def _joining(city_ids: Iterable[str]) -> AsyncIterator[None]:
    """Hold each city's turn, taken in id order so that two commands never deadlock."""
    async with contextlib.AsyncExitStack() as turns:
        for city_id in sorted(set(city_ids)):
            await turns.enter_async_context(_JOINING.hold(city_id))
        yield


async def _commit_joining(
    runtime: ServiceRuntime,
    mou_id: str,
    loaded: Loaded[MoU],
    events: list[MouEvent],
    city_ids: list[str],
    caller: Principal,
) -> MoU:
    """Commit, once each of ``city_ids`` is found party to fewer MoUs than the limit."""
    async with _joining(city_ids):
        for city_id in sorted(set(city_ids)):
            party_to = await views.mous_of_city(
                runtime.database, city_id, up_to=capacity.MOUS_PER_CITY
            )
            capacity.check_city_room(city_id, mou_id, party_to)
        return await _commit(runtime, mou_id, loaded, events, caller.subject)


async def draft_mou(runtime: ServiceRuntime, drafted: MouDrafted, caller: Principal) -> MoU:
    access.check_draft(caller, drafted)
    loaded = await load_mou(runtime, drafted.mou_id)
    city_ids = [party.city_id for party in drafted.parties if party.city_id is not None]
    cities = await views.known_cities(runtime.database, city_ids)
    organisations = await views.known_organisations(
        runtime.database, [party.organisation_id for party in drafted.parties if not party.city_id]
    )
    events = domain.draft_mou(loaded.state, drafted, cities, organisations)
    return await _commit_joining(runtime, drafted.mou_id, loaded, events, city_ids, caller)


async def add_party(runtime: ServiceRuntime, mou_id: str, party: Party, caller: Principal) -> MoU:
    mou, loaded = await _existing(runtime, mou_id)
    access.check_change(caller, mou, "add a party to")
    city_ids = [party.city_id] if party.city_id is not None else []
    cities = await views.known_cities(runtime.database, city_ids)
    organisations = await views.known_organisations(
        runtime.database, [party.organisation_id] if party.city_id is None else []
    )
    events = domain.add_party(mou, party, cities, today(), organisations)
    capacity.check_party_room(mou)
    return await _commit_joining(runtime, mou_id, loaded, events, city_ids, caller)


async def _change(
    runtime: ServiceRuntime,
    mou_id: str,
    decide: Callable[[MoU, date], list[MouEvent]],
    caller: Principal,
    doing: str,
) -> MoU:
    mou, loaded = await _existing(runtime, mou_id)
    access.check_change(caller, mou, doing)
    return await _commit(runtime, mou_id, loaded, decide(mou, today()), caller.subject)


async def sign_mou(
    runtime: ServiceRuntime, mou_id: str, signature: Signature, caller: Principal
) -> MoU:
    """``signature``'s party is already the one ``access.signing_party`` allows the caller."""
    return await _change(
        runtime, mou_id, lambda mou, day: domain.sign_mou(mou, signature, day), caller, "sign"
    )


async def amend_mou(
    runtime: ServiceRuntime, mou_id: str, amendment: Amendment, caller: Principal
) -> MoU:
    return await _change(
        runtime, mou_id, lambda mou, day: domain.amend_mou(mou, amendment, day), caller, "amend"
    )


async def terminate_mou(
    runtime: ServiceRuntime, mou_id: str, termination: Termination, caller: Principal
) -> MoU:
    return await _change(
        runtime,
        mou_id,
        lambda mou, day: domain.terminate_mou(mou, termination, day),
        caller,
        "terminate",
    )


async def check_expiries(
    runtime: ServiceRuntime, *, actor: str = "system:expiry-check"
) -> list[str]:
    """Record ``ucap.mou.expired.v1`` for every MoU whose validity has ended; return their ids.

    ``actor``: the operator who asked, or the scheduled check itself. The expiry follows
    from the event that set the validity's end, the MoU's draft: its ``causationid``."""
    day = today()
    expired: list[str] = []
    for mou_id in await views.expiry_candidates(runtime.database, day):
        loaded = await load_mou(runtime, mou_id)
        if loaded.state is None:
            continue
        events = domain.expire_mou(loaded.state, day)
        if not events:
            continue
        try:
            cause = await _validity_set_by(runtime, mou_id)
            await _commit(runtime, mou_id, loaded, events, actor, causation_id=cause)
        except ConcurrencyConflict:
            # Another replica or a concurrent write got there first; the next check retries.
            log.info("expiry check raced another write", extra={"mou_id": mou_id})
            continue
        expired.append(mou_id)
    return expired


async def _validity_set_by(runtime: ServiceRuntime, mou_id: str) -> str | None:
    """The id of the event that set the MoU's ``valid_until``: its draft, the only event
    that sets it, which is the first of its stream (one read by ``_id``)."""
    first = await runtime.store.commit_at(mou_id, 1)
    if first is None:
        return None
    drafted = envelopes_of(first)[0]
    return str(drafted.id) if drafted.type == MouDrafted.event_type else None
