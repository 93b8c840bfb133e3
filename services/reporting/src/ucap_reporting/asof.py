"""A U-CAP's status as it stood at the end of a past day.

The same projections as the live views run over an in-memory store: the
U-CAP's own events from the event store, and the cities, MoUs and pilots
topics read from their beginning, keeping only events whose time is at or
before the end of that day (UTC).

Cost and limit: every call reads the three source topics in full (Kafka keeps
them forever), so it grows with the programme's whole history: fine for the
thousands of events a programme produces, not for millions. Beyond that, a
snapshot of the views per day would be the next step. Events that cannot be
parsed or applied are skipped, as a rebuild would skip them.
"""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from ucap_reporting.projections import STATUS_VIEW, all_handlers
from ucap_reporting.status import UcapStatus, status_of
from ucap_reporting.store import MemoryViews
from ucap_shared.app import ServiceRuntime
from ucap_shared.dispatch import Handlers, UnusableRecord, dispatch, parse_envelope
from ucap_shared.envelope import Envelope

GROUP = "reporting-as-of"


def end_of(day: date) -> datetime:
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


async def status_as_of(runtime: ServiceRuntime, ucap_id: str, day: date) -> UcapStatus | None:
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
    document = await memory.get(STATUS_VIEW, ucap_id)
    assert document is not None
    return status_of(document, day, runtime.freshness())
