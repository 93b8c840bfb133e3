"""The consumer applies what one fetch brings as one batch, and commits at most every so often.

Against the real Kafka and MongoDB-protocol server: a recording runner notes each batch it
applies (by partition) and each commit of stream positions and offsets it makes.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from tests.support.tally import Backbone, Counted
from tests.support.waiting import eventually
from ucap_shared.consumer import ConsumerRunner
from ucap_shared.envelope import Envelope
from ucap_shared.eventstore import EventStore
from ucap_shared.positions import WHOLE_TOPIC


class RecordingRunner(ConsumerRunner):
    batches: list[set[int]]
    """The partitions of each batch applied."""
    commits: list[float]
    """When each commit that had processed records to commit was made (monotonic)."""

    async def handle_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        self.batches.append({record.partition for record in records})
        await super().handle_batch(records)

    async def commit_processed(self, partitions: Sequence[TopicPartition]) -> None:
        if any(tp in self._processed for tp in partitions):
            self.commits.append(time.monotonic())
        await super().commit_processed(partitions)


def recording(
    backbone: Backbone, *, commit_every_seconds: float, quiet_seconds: float = 0.05
) -> RecordingRunner:
    consumer = backbone.consumer(
        runner=RecordingRunner,
        commit_every_seconds=commit_every_seconds,
        quiet_seconds=quiet_seconds,
    )
    assert isinstance(consumer, RecordingRunner)
    consumer.batches, consumer.commits = [], []
    return consumer


async def totals(backbone: Backbone) -> dict[str, int]:
    return {doc["_id"]: doc["total"] async for doc in backbone.view.find({})}


async def stored_position(backbone: Backbone, consumer: ConsumerRunner, stream: str) -> int:
    found = await backbone.database["stream_positions"].find_one(
        {"_id": f"{consumer.group}|{backbone.topic}|{stream}"}
    )
    return int(found["sequence"]) if found else 0


async def position_reaches(
    backbone: Backbone, consumer: ConsumerRunner, stream: str, sequence: int, *, timeout: float
) -> None:
    async def written() -> bool:
        return await stored_position(backbone, consumer, stream) == sequence

    await eventually(written, timeout=timeout, interval=0.02)


@contextlib.asynccontextmanager
async def flowing(backbone: Backbone, consumer: ConsumerRunner) -> AsyncIterator[EventStore]:
    """The tally's store, with a relay publishing it and ``consumer`` applying it."""
    store = backbone.store
    relay = backbone.relay(store)
    relay.start()
    consumer.start()
    try:
        yield store
    finally:
        await consumer.stop()
        await relay.stop()


async def append_one_at_a_time(
    backbone: Backbone, store: EventStore, aggregate: str, count: int, *, pause: float
) -> None:
    """Each event after the one before it was applied, so each comes in a fetch of its own."""
    for version in range(count):
        await store.append(aggregate, version, [Counted(amount=1)], actor="test")

        async def applied(expected: int = version + 1) -> bool:
            return (await totals(backbone)).get(aggregate) == expected

        await eventually(applied, timeout=30, interval=0.02)
        await asyncio.sleep(pause)


async def publish_twelve_aggregates(backbone: Backbone) -> None:
    """Three events each of twelve aggregates, published before any consumer starts."""
    store = backbone.store
    for n in range(12):
        for version in range(3):
            await store.append(f"agg-{n}", version, [Counted(amount=1)], actor="test")
    relay = backbone.relay(store)
    relay.start()
    try:

        async def published() -> bool:
            return await store.backlog() == 0

        await eventually(published, timeout=60)
    finally:
        await relay.stop()


async def twelve_applied(backbone: Backbone) -> bool:
    found = await totals(backbone)
    return len(found) == 12 and all(total == 3 for total in found.values())


class TestOneBatchAFetch:
    async def test_records_of_several_partitions_are_applied_as_one_batch(
        self, backbone: Backbone
    ) -> None:
        await publish_twelve_aggregates(backbone)
        consumer = recording(backbone, commit_every_seconds=30)
        consumer.start()
        try:
            await eventually(lambda: twelve_applied(backbone), timeout=60)
        finally:
            await consumer.stop()

        partitions = set().union(*consumer.batches)
        assert len(partitions) >= 2, "the aggregates spread over the topic's partitions"
        assert max(len(batch) for batch in consumer.batches) >= 2, consumer.batches


class TestPartitionsSideBySide:
    async def test_one_partition_waits_while_the_others_go_on_each_in_order(
        self, backbone: Backbone
    ) -> None:
        await publish_twelve_aggregates(backbone)
        in_flight: dict[str, int] = {}
        most_at_once = 0
        seen: dict[str, list[int]] = {}

        async def each(envelope: Envelope) -> None:
            nonlocal most_at_once
            stream = envelope.subject
            in_flight[stream] = in_flight.get(stream, 0) + 1
            most_at_once = max(most_at_once, sum(in_flight.values()))
            seen.setdefault(stream, []).append(envelope.sequence)
            try:
                await asyncio.sleep(0.05)  # a slow write: the other partitions go on meanwhile
            finally:
                in_flight[stream] -= 1

        consumer = backbone.consumer(each=each, commit_every_seconds=30)
        consumer.start()
        try:
            await eventually(lambda: twelve_applied(backbone), timeout=60)
        finally:
            await consumer.stop()

        assert most_at_once >= 2, "records of several partitions were applied at once"
        assert all(sequences == [1, 2, 3] for sequences in seen.values()), seen


class TestCommitsAtMostEverySoOften:
    async def test_what_a_quiet_consumer_applied_is_committed_at_once(
        self, backbone: Backbone
    ) -> None:
        consumer = recording(backbone, commit_every_seconds=60)
        async with flowing(backbone, consumer) as store:
            await append_one_at_a_time(backbone, store, "a", 1, pause=0)

            await position_reaches(backbone, consumer, "a", 1, timeout=10)

    async def test_a_stream_moved_by_many_fetches_has_its_position_written_once(
        self, backbone: Backbone
    ) -> None:
        consumer = recording(backbone, commit_every_seconds=30, quiet_seconds=5)
        async with flowing(backbone, consumer) as store:
            await append_one_at_a_time(backbone, store, "a", 12, pause=0)

            await position_reaches(backbone, consumer, "a", 12, timeout=30)

        assert len(consumer.batches) >= 6, "the events came in fetches of their own"
        assert 1 <= len(consumer.commits) <= 3, consumer.commits

    async def test_records_that_keep_coming_are_committed_while_they_come(
        self, backbone: Backbone
    ) -> None:
        consumer = recording(backbone, commit_every_seconds=0.3, quiet_seconds=5)
        async with flowing(backbone, consumer) as store:
            started = time.monotonic()
            await append_one_at_a_time(backbone, store, "a", 15, pause=0.1)
            stopped = time.monotonic()

            await position_reaches(backbone, consumer, "a", 15, timeout=30)

        assert stopped - started > 1.5, "the flow lasted several commit intervals"
        assert len([at for at in consumer.commits if at < stopped]) >= 2, consumer.commits


class TestATopicWhoseHandlersGuardThemselves:
    async def test_keeps_only_when_its_newest_event_was_applied(self, backbone: Backbone) -> None:
        consumer = backbone.consumer(guard_themselves=True, commit_every_seconds=0.2)
        async with flowing(backbone, consumer) as store:
            for aggregate in ("a", "b", "c"):
                await append_one_at_a_time(backbone, store, aggregate, 2, pause=0)
            newest = max(e.time for e in await store.load("c"))

            async def topic_position() -> dict[str, Any] | None:
                return await backbone.database["stream_positions"].find_one(
                    {"group": consumer.group, "topic": backbone.topic, "event_time": newest}
                )

            found = await eventually(topic_position, timeout=10, interval=0.05)

        positions = await backbone.database["stream_positions"].find({}).to_list()
        assert [p["_id"] for p in positions] == [found["_id"]], "no position per stream"
        assert found["stream"] == WHOLE_TOPIC
        assert await totals(backbone) == {"a": 2, "b": 2, "c": 2}
