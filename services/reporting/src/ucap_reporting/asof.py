"""A U-CAP's status as it stood at the end of a day, on one of two time axes.

Both replay the same projections as the live views over an in-memory store: the
U-CAP's own events from the event store, and the cities, MoUs and pilots topics read
from their beginning, keeping only some events:

- cooperation time (``as_of``): the events whose facts had happened by that day, by
  the dates they carry (``ucap_reporting.cooperation``), whenever they were recorded;
- recorded time (``recorded_as_of``): the events recorded by the end of that day (UTC).

Events that cannot be parsed or applied are skipped, as a rebuild would skip them.

Cost: a replay reads the three source topics in full, so what it gives is kept
(``ucap_status_as_of``) and served again while it stands:

- on the recorded axis, by U-CAP and day once the day has been over for ``SETTLED``:
  events carry the time they were recorded, so no later event can belong to a day that
  ended before it, except one whose relay waited longer than that to publish it (a
  broker outage of over an hour), or one an admin recorded with an earlier time
  (``X-UCAP-Occurred-At``, a loader's history): applying such an event forgets every
  kept document from its day on, and bumps an epoch, so a replay that ran meanwhile is
  not kept either. A day that ends more than ``SETTLED`` from now is the live status
  document, unless an event was recorded for a time after that day's end (the latest
  such time is kept: ``future``). A day not yet settled is replayed for each request.
- on the cooperation axis, by U-CAP and day with the fingerprint of what the live
  status document holds (its ``_applied`` sequences): any newly recorded event that
  concerns the U-CAP, whatever its date, changes that document and so the fingerprint,
  and a kept answer with another fingerprint is replayed (once) and replaced. Each
  request costs two reads by id; a replay runs at most once per U-CAP, day and change.

A rebuild of the reporting views drops what is kept.
"""

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ucap_reporting import views
from ucap_reporting.cooperation import known_by, own_events_by
from ucap_reporting.projections import STATUS_VIEW, all_handlers
from ucap_reporting.status import Axis, UcapStatus, status_of
from ucap_reporting.store import MemoryViews
from ucap_shared.app import ServiceRuntime
from ucap_shared.consumer import TopicFreshness
from ucap_shared.dispatch import Handler, Handlers, UnusableRecord, dispatch, parse_envelope
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topic_reading import TopicToItsEnd
from ucap_shared.views import (
    APPLIED,
    VIEW_BUFFER,
    Document,
    Outcome,
    pack_fields,
    packed,
    readable,
)

Database = AsyncDatabase[Document]

GROUP = "reporting-as-of"
AS_OF_VIEW = "ucap_status_as_of"
EPOCH = "epoch"
FUTURE = "future"
SETTLED = timedelta(hours=1)
pack_fields(AS_OF_VIEW, ("document",))


def end_of(day: date) -> datetime:
    if day == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time.min, UTC) - timedelta(microseconds=1)


async def read_topic(bootstrap: str, topic: str) -> AsyncIterator[Envelope]:
    """Every parseable event of ``topic`` up to its current end, each partition in order."""
    async with TopicToItsEnd(bootstrap, topic) as reading:
        async for record in reading.records():
            try:
                yield parse_envelope(record.value)
            except UnusableRecord:
                continue


async def _apply(handlers: Handlers, envelope: Envelope) -> None:
    try:
        await dispatch(handlers, envelope, group=GROUP)
    except UnusableRecord:
        return


@dataclass(frozen=True)
class Replay:
    """A status document as replayed (None: no U-CAP then), and per topic the time of
    the last event it holds."""

    document: Document | None
    freshness: list[TopicFreshness]


async def replayed(
    runtime: ServiceRuntime, ucap_id: str, day: date, axis: Axis, *, now: datetime
) -> Replay:
    """The status document at the end of ``day`` on ``axis``, from the events."""
    memory = MemoryViews()
    own, *others = all_handlers(memory)
    keep: Callable[[Envelope], bool]
    if axis is Axis.RECORDED:
        until = end_of(day)
        mine = await runtime.store.load(ucap_id, until=until)

        def keep(envelope: Envelope) -> bool:
            return envelope.time <= until
    else:
        past = day < now.date()
        mine = own_events_by(await runtime.store.load(ucap_id), day, past=past)

        def keep(envelope: Envelope) -> bool:
            return known_by(envelope, day, past=past)

    for envelope in mine:
        await _apply(own, envelope)
    if await memory.get(STATUS_VIEW, ucap_id) is None:
        return Replay(None, [])
    latest: dict[str, datetime] = {}
    if mine:
        latest[runtime.own_topic] = max(e.time for e in mine)
    for handlers in others:
        async for envelope in read_topic(runtime.settings.kafka_bootstrap_servers, handlers.topic):
            if keep(envelope):
                await _apply(handlers, envelope)
                seen = latest.get(handlers.topic)
                latest[handlers.topic] = envelope.time if seen is None else max(seen, envelope.time)
    topics = [*(h.topic for h in others), runtime.own_topic]
    freshness = [TopicFreshness(topic=t, lag=0, last_event_time=latest.get(t)) for t in topics]
    return Replay(await memory.get(STATUS_VIEW, ucap_id), freshness)


def _kept(found: Document | None, database: Database) -> Replay | None:
    kept = readable(found, database.codec_options)
    if kept is None:
        return None
    freshness = [TopicFreshness.model_validate(f) for f in kept.get("freshness") or []]
    return Replay(kept["document"], freshness)


def _stored(key: str, ucap_id: str, day: date, replay: Replay, **fields: object) -> Document:
    return packed(
        AS_OF_VIEW,
        {
            "_id": key,
            "ucap_id": ucap_id,
            "day": day.isoformat(),
            "document": replay.document,
            "freshness": [f.model_dump(mode="json") for f in replay.freshness],
            **fields,
        },
    )


async def recorded_as_of(
    runtime: ServiceRuntime,
    ucap_id: str,
    day: date,
    *,
    now: datetime,
    current: list[TopicFreshness] | None = None,
) -> Replay:
    """What was recorded by the end of ``day``: live (with ``current``, the live views'
    freshness), kept, or replayed (then kept)."""
    database = runtime.database
    if day >= now.date() and await _live_holds(database, day, now):
        live = await views.status_document(database, ucap_id)
        return Replay(live, current if current is not None else runtime.freshness())
    settled = end_of(day) + SETTLED <= now
    key = f"{ucap_id}|{day.isoformat()}"
    if settled:
        kept = _kept(await database[AS_OF_VIEW].find_one({"_id": key}), database)
        if kept is not None:
            return kept
    epoch = await _epoch(database)
    replay = await replayed(runtime, ucap_id, day, Axis.RECORDED, now=now)
    if settled:
        with contextlib.suppress(DuplicateKeyError):  # another request kept it first
            await database[AS_OF_VIEW].insert_one(_stored(key, ucap_id, day, replay))
        if await _epoch(database) != epoch:
            await database[AS_OF_VIEW].delete_one({"_id": key})
    return replay


def fingerprint(live: Document, *, past: bool) -> str:
    """What a cooperation answer depends on: every event the live status document holds
    (its ``_applied`` sequences, one per source stream), and whether the day is past."""
    basis = json.dumps({"applied": live.get(APPLIED, {}), "past": past}, sort_keys=True)
    return hashlib.sha256(basis.encode()).hexdigest()


async def cooperation_as_of(
    runtime: ServiceRuntime, ucap_id: str, day: date, *, now: datetime
) -> Replay:
    """The U-CAP by the dates its facts carry, kept while nothing it holds has changed.

    A newly recorded event may change any past day, so what is kept is checked against
    the live status document: one read by id. An event that concerns the U-CAP changes
    that document's ``_applied``; then the day is replayed (once) and kept again."""
    database = runtime.database
    live = await views.status_document(database, ucap_id)
    if live is None:
        return Replay(None, [])
    current = fingerprint(live, past=day < now.date())
    key = f"{ucap_id}|cooperation|{day.isoformat()}"
    found = await database[AS_OF_VIEW].find_one({"_id": key})
    kept = _kept(found, database)
    if kept is not None and found is not None and found.get("fingerprint") == current:
        return kept
    replay = await replayed(runtime, ucap_id, day, Axis.COOPERATION, now=now)
    stored = _stored(key, ucap_id, day, replay, axis=Axis.COOPERATION.value, fingerprint=current)
    await database[AS_OF_VIEW].replace_one({"_id": key}, stored, upsert=True)
    return replay


async def _live_holds(database: Database, day: date, now: datetime) -> bool:
    """Whether the live document is the status at the end of ``day``: no event is later."""
    until = end_of(day)
    if until < now + SETTLED:
        return False
    latest = await database[AS_OF_VIEW].find_one({"_id": FUTURE})
    return latest is None or _as_utc(latest["time"]) <= until


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _epoch(database: Database) -> int:
    found = await database[AS_OF_VIEW].find_one({"_id": EPOCH})
    return int(found["n"]) if found else 0


async def forget_kept_from(database: Database, day: date) -> None:
    """An event of ``day`` came late: no kept document from that day on stands."""
    await database[AS_OF_VIEW].update_one({"_id": EPOCH}, {"$inc": {"n": 1}}, upsert=True)
    await database[AS_OF_VIEW].delete_many({"day": {"$gte": day.isoformat()}})


def forgetting_late_events(handlers: Handlers, database: Database) -> Handlers:
    """``handlers``, each of which, after applying an event recorded before the last
    settled moment, forgets the kept documents from that event's day on."""
    wrapped = Handlers(handlers.topic, handlers.type_prefix)
    for event_type, (model, handler) in handlers.by_type.items():
        wrapped.by_type[event_type] = (model, _forgetting(handler, database))
    return wrapped


def _forgetting(handler: Handler, database: Database) -> Handler:
    async def apply(envelope: Envelope, data: EventData) -> Outcome | None:
        outcome = await handler(envelope, data)
        if VIEW_BUFFER.get() is not None:
            return outcome  # a rebuild drops what is kept anyway
        now = datetime.now(UTC)
        if envelope.time + SETTLED < now:
            await forget_kept_from(database, envelope.time.date())
        elif envelope.time > now + SETTLED:
            await database[AS_OF_VIEW].update_one(
                {"_id": FUTURE}, {"$max": {"time": envelope.time}}, upsert=True
            )
        return outcome

    return apply


async def status_as_of(
    runtime: ServiceRuntime,
    ucap_id: str,
    day: date,
    axis: Axis = Axis.COOPERATION,
    *,
    now: datetime | None = None,
    current: list[TopicFreshness] | None = None,
) -> UcapStatus | None:
    """The status at the end of ``day`` on ``axis`` (None: no U-CAP then). Its freshness
    says, per topic, the last event the answer holds: on the recorded axis, those of
    that day; on the cooperation axis, ``current`` (the live views': the kept answer was
    just checked against them)."""
    moment = now or datetime.now(UTC)
    if axis is Axis.RECORDED:
        replay = await recorded_as_of(runtime, ucap_id, day, now=moment, current=current)
    else:
        replay = await cooperation_as_of(runtime, ucap_id, day, now=moment)
        replay = Replay(replay.document, current if current is not None else replay.freshness)
    if replay.document is None:
        return None
    # Kept before answers said how fresh they were: each topic as unknown.
    unknown = [TopicFreshness(topic=f.topic) for f in current or []]
    return status_of(replay.document, day, replay.freshness or unknown, axis)
