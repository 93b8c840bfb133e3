"""A rebalance that comes while a fetched batch is being applied (real Kafka and store).

aiokafka runs a rebalance in a task of its own and calls the listener there, so the
listener can run between two records of a batch. If it wrote the stream positions and
then dropped what was not yet written while the batch went on, a stream's last
position in that batch would be lost: its offset committed past, its position left
one behind, so the stream's next event would look like one after a gap and be held
for good.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime

import pytest
from aiokafka import TopicPartition

from tests.support.tally import Backbone, Counted
from tests.support.waiting import eventually
from ucap_shared.consumer import ConsumerRunner, RebalanceListener
from ucap_shared.envelope import Envelope

STREAMS = 3
EVENTS_PER_STREAM = 50
PARTITIONS = 3


async def publish(backbone: Backbone, versions: range) -> None:
    store = backbone.store
    for version in versions:
        for stream in range(STREAMS):
            await store.append(f"agg-{stream}", version, [Counted(amount=1)], actor="test")
    relay = backbone.relay(store)
    relay.start()
    try:
        await eventually(lambda: _nothing_pending(backbone), timeout=60)
    finally:
        await relay.stop()


async def _nothing_pending(backbone: Backbone) -> bool:
    return await backbone.store.backlog() == 0


async def every_stream_at(backbone: Backbone, total: int) -> bool:
    views = await backbone.view.find({}).to_list()
    return len(views) == STREAMS and all(view["total"] == total for view in views)


def with_slow_position_writes(consumer: ConsumerRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A position write that takes a while, as on a busy store: the batch goes on meanwhile."""
    positions = consumer._positions
    write = positions.advance_all

    async def slowly(moved: Sequence[tuple[str, str, int, datetime | None]]) -> None:
        await asyncio.sleep(0.05)
        await write(moved)

    monkeypatch.setattr(positions, "advance_all", slowly)


class TestRebalanceDuringABatch:
    async def test_a_rebalance_at_a_streams_last_event_loses_no_position(
        self, backbone: Backbone, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await publish(backbone, range(EVENTS_PER_STREAM))
        rebalances: list[asyncio.Task[None]] = []
        consumer = backbone.consumer(each=lambda envelope: rebalance_at_last(envelope))
        listener = RebalanceListener(consumer)
        partitions = [TopicPartition(backbone.topic, n) for n in range(PARTITIONS)]

        async def rebalance() -> None:
            # A rebalance in which this member keeps its partitions: revoked, assigned again.
            await listener.on_partitions_revoked(partitions)
            await listener.on_partitions_assigned(partitions)

        async def rebalance_at_last(envelope: Envelope) -> None:
            if envelope.subject == "agg-0" and envelope.sequence == EVENTS_PER_STREAM:
                rebalances.append(asyncio.create_task(rebalance()))
                await asyncio.sleep(0.01)  # the listener starts before this event is applied

        with_slow_position_writes(consumer, monkeypatch)
        consumer.start()
        try:
            await eventually(lambda: every_stream_at(backbone, EVENTS_PER_STREAM), timeout=60)
            await asyncio.wait_for(asyncio.gather(*rebalances), timeout=30)
            assert len(rebalances) == 1
            await publish(backbone, range(EVENTS_PER_STREAM, EVENTS_PER_STREAM + 1))
            await eventually(lambda: every_stream_at(backbone, EVENTS_PER_STREAM + 1), timeout=60)
        finally:
            await consumer.stop()

        for view in await backbone.view.find({}).to_list():
            assert view["sequences"] == list(range(1, EVENTS_PER_STREAM + 2))
        assert await backbone.database["held_events"].count_documents({}) == 0
