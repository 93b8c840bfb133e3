"""A U-CAP's status as it stood at the end of a day.

The same projections as the live views run over an in-memory store: the
U-CAP's own events from the event store, and the cities, MoUs and pilots
topics read from their beginning, keeping only events whose time is at or
before the end of that day (UTC). Events that cannot be parsed or applied are
skipped, as a rebuild would skip them.

Cost: that replay reads the three source topics in full, so it runs at most
once per U-CAP and past day. Its document is kept (``ucap_status_as_of``, by
U-CAP and day) once the day has been over for ``SETTLED``: events carry the
time they were recorded, so no later event can belong to a day that ended
before it, except one whose relay waited longer than that to publish it (a
broker outage of over an hour), or one an admin recorded with an earlier time
(``X-UCAP-Occurred-At``, a loader's history): applying such an event forgets
every kept document from its day on, and bumps an epoch, so a replay that ran
meanwhile is not kept either. A day that ends more than ``SETTLED`` from now
is the live status document, unless an event was recorded for a time after
that day's end (the latest such time is kept: ``future``). A day not yet
settled is replayed for each request. A rebuild of the reporting views drops
what is kept.
"""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ucap_reporting import views
from ucap_reporting.projections import STATUS_VIEW, all_handlers
from ucap_reporting.status import UcapStatus, status_of
from ucap_reporting.store import MemoryViews
from ucap_shared.app import ServiceRuntime
from ucap_shared.dispatch import Handler, Handlers, UnusableRecord, dispatch, parse_envelope
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.views import VIEW_BUFFER, Document, Outcome, pack_fields, packed, readable

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
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        numbers = consumer.partitions_for_topic(topic) or set()
        partitions = [TopicPartition(topic, p) for p in sorted(numbers)]
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        remaining = [tp for tp in partitions if ends[tp] > 0]
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=2000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    try:
                        yield parse_envelope(record.value)
                    except UnusableRecord:
                        continue
            remaining = [tp for tp in remaining if await consumer.position(tp) < ends[tp]]
    finally:
        await consumer.stop()


async def _apply(handlers: Handlers, envelope: Envelope) -> None:
    try:
        await dispatch(handlers, envelope, group=GROUP)
    except UnusableRecord:
        return


async def replayed(runtime: ServiceRuntime, ucap_id: str, day: date) -> Document | None:
    """The status document at the end of ``day``, from the events (None: no U-CAP then)."""
    until = end_of(day)
    memory = MemoryViews()
    own, *others = all_handlers(memory)
    for envelope in await runtime.store.load(ucap_id, until=until):
        await _apply(own, envelope)
    if await memory.get(STATUS_VIEW, ucap_id) is None:
        return None
    for handlers in others:
        async for envelope in read_topic(runtime.settings.kafka_bootstrap_servers, handlers.topic):
            if envelope.time <= until:
                await _apply(handlers, envelope)
    return await memory.get(STATUS_VIEW, ucap_id)


async def document_as_of(
    runtime: ServiceRuntime, ucap_id: str, day: date, *, now: datetime
) -> Document | None:
    """The status document at the end of ``day``: live, kept, or replayed (then kept)."""
    database = runtime.database
    if day >= now.date() and await _live_holds(database, day, now):
        return await views.status_document(database, ucap_id)
    settled = end_of(day) + SETTLED <= now
    key = f"{ucap_id}|{day.isoformat()}"
    if settled:
        kept = readable(await database[AS_OF_VIEW].find_one({"_id": key}), database.codec_options)
        if kept is not None:
            found: Document | None = kept["document"]
            return found
    epoch = await _epoch(database)
    document = await replayed(runtime, ucap_id, day)
    if settled:
        stored = {"_id": key, "ucap_id": ucap_id, "day": day.isoformat(), "document": document}
        with contextlib.suppress(DuplicateKeyError):  # another request kept it first
            await database[AS_OF_VIEW].insert_one(packed(AS_OF_VIEW, stored))
        if await _epoch(database) != epoch:
            await database[AS_OF_VIEW].delete_one({"_id": key})
    return document


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
    runtime: ServiceRuntime, ucap_id: str, day: date, *, now: datetime | None = None
) -> UcapStatus | None:
    document = await document_as_of(runtime, ucap_id, day, now=now or datetime.now(UTC))
    return status_of(document, day, runtime.freshness()) if document else None
