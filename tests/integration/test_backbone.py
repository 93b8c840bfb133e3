"""The event backbone against the real Kafka and MongoDB-protocol server."""

import asyncio
import json

from aiokafka import AIOKafkaProducer, ConsumerRecord

from tests.support.kafka_reading import read_topic
from tests.support.tally import Backbone, Counted
from tests.support.waiting import eventually
from ucap_shared.envelope import Envelope
from ucap_shared.eventstore import ConcurrencyConflict, EventStore
from ucap_shared.relay import Relay


async def view_of(backbone: Backbone) -> dict[str, dict[str, object]]:
    return {doc["_id"]: doc async for doc in backbone.view.find({})}


class TestConcurrentAppends:
    async def test_exactly_one_of_two_writers_at_the_same_version_wins(
        self, backbone: Backbone
    ) -> None:
        store = backbone.store
        await store.append("t1", 0, [Counted(amount=1)], actor="test")

        outcomes = await asyncio.gather(
            store.append("t1", 1, [Counted(amount=10)], actor="writer-a"),
            store.append("t1", 1, [Counted(amount=20)], actor="writer-b"),
            return_exceptions=True,
        )

        conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
        assert len(conflicts) == 1
        events = await store.load("t1")
        assert [e.sequence for e in events] == [1, 2]
        assert events[1].actor in {"writer-a", "writer-b"}


class TestStoreReads:
    async def test_as_of_returns_the_stream_up_to_a_moment(self, backbone: Backbone) -> None:
        store = backbone.store
        first = await store.append("t1", 0, [Counted(amount=1)], actor="test")
        await asyncio.sleep(0.01)  # the store's clock has millisecond precision
        await store.append("t1", 1, [Counted(amount=2), Counted(amount=3)], actor="test")

        then = await store.as_of("t1", first[0].time)
        now = await store.load("t1")

        assert [e.data["amount"] for e in then] == [1]
        assert [e.data["amount"] for e in now] == [1, 2, 3]
        assert [e.sequence for e in now] == [1, 2, 3]

    async def test_read_all_replays_every_aggregate_in_order(self, backbone: Backbone) -> None:
        store = backbone.store
        for aggregate in ("b", "a"):
            for version in range(3):
                await store.append(aggregate, version, [Counted(amount=version)], actor="test")

        replayed = [(e.subject, e.sequence) async for e in store.read_all(batch_size=2)]

        assert replayed == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("b", 3)]


class TestDelivery:
    async def test_a_thousand_events_in_fifty_aggregates_arrive_once_and_in_order(
        self, backbone: Backbone
    ) -> None:
        store, relay, consumer = backbone.store, None, backbone.consumer()

        async def write(aggregate: str) -> None:
            for version in range(20):
                await store.append(aggregate, version, [Counted(amount=1)], actor="test")

        relay = backbone.relay(store)
        relay.start()
        consumer.start()
        try:
            await asyncio.gather(*(write(f"agg-{n}") for n in range(50)))

            async def all_applied_and_marked() -> bool:
                docs = await view_of(backbone)
                applied = len(docs) == 50 and all(d["total"] == 20 for d in docs.values())
                # The relay marks a batch published after Kafka took it: maybe after
                # the consumer applied it.
                return applied and await store.backlog() == 0

            await eventually(all_applied_and_marked, timeout=120)
        finally:
            await consumer.stop()
            await relay.stop()

        for doc in (await view_of(backbone)).values():
            assert doc["sequences"] == list(range(1, 21))
        assert await store.backlog() == 0

    async def test_a_relay_that_dies_before_marking_publishes_again_and_views_apply_once(
        self, backbone: Backbone
    ) -> None:
        class DiesBeforeMarking(Relay):
            deaths = 0

            async def mark_published(self, commit_ids: list[str]) -> None:
                if DiesBeforeMarking.deaths == 0:
                    DiesBeforeMarking.deaths += 1
                    raise ConnectionError("killed between publish and mark")
                await super().mark_published(commit_ids)

        store = backbone.store
        for version in range(5):
            await store.append("t1", version, [Counted(amount=1)], actor="test")
        relay, consumer = backbone.relay(store, DiesBeforeMarking), backbone.consumer()
        relay.start()
        consumer.start()
        try:
            await eventually(lambda: _backlog_is_empty(store), timeout=30)

            async def applied() -> bool:
                doc = (await view_of(backbone)).get("t1")
                return doc is not None and doc["total"] == 5

            await eventually(applied, timeout=30)
        finally:
            await consumer.stop()
            await relay.stop()

        records = await read_topic(backbone.bootstrap, backbone.topic)
        assert DiesBeforeMarking.deaths == 1
        assert len(records) == 10, "each event was published twice"
        assert (await view_of(backbone))["t1"]["sequences"] == [1, 2, 3, 4, 5]


async def _backlog_is_empty(store: EventStore) -> bool:
    return await store.backlog() == 0


class TestDeadLetters:
    async def test_bad_records_go_to_the_dead_letter_topic_and_later_events_apply(
        self, backbone: Backbone
    ) -> None:
        def event(sequence: int, data: dict[str, object], type_: str = Counted.event_type) -> bytes:
            return Envelope(
                source="ucap/tally",
                type=type_,
                subject="t1",
                sequence=sequence,
                data=data,
                actor="test",
            ).to_json()

        producer = AIOKafkaProducer(bootstrap_servers=backbone.bootstrap, acks="all")
        await producer.start()
        try:
            for value in [
                event(1, {"amount": 1}),
                b"{not json",
                event(2, {"amount": 1}),
                event(9, {"amount": 1}, type_="ucap.unknown.thing.v1"),
                event(3, {"amount": 1}),
                event(9, {"amount": "lots"}),
                event(4, {"amount": 1}),
            ]:
                await producer.send_and_wait(backbone.topic, value, key=b"t1")
        finally:
            await producer.stop()

        consumer = backbone.consumer()
        consumer.start()
        try:

            async def applied() -> bool:
                doc = (await view_of(backbone)).get("t1")
                return doc is not None and doc["total"] == 4

            await eventually(applied, timeout=30)
            dead = await eventually(
                lambda: _records_when(backbone.bootstrap, backbone.dlq, 3), timeout=30
            )
        finally:
            await consumer.stop()

        headers = [dict(record.headers) for record in dead]
        assert [h["dlq_error_kind"] for h in headers] == [
            b"malformed",
            b"unknown_type",
            b"invalid_data",
        ]
        for record, header in zip(dead, headers, strict=True):
            assert header["dlq_original_topic"] == backbone.topic.encode()
            assert header["dlq_consumer_group"] == consumer.group.encode()
            assert int(header["dlq_original_partition"]) >= 0
            assert int(header["dlq_original_offset"]) >= 0
            assert header["dlq_error"]
            assert record.key == b"t1"
        assert (await view_of(backbone))["t1"]["sequences"] == [1, 2, 3, 4]


async def _records_when(
    bootstrap: str, topic: str, count: int
) -> list[ConsumerRecord[bytes, bytes]] | None:
    records = await read_topic(bootstrap, topic)
    return records if len(records) >= count else None


class TestGaps:
    async def test_an_event_after_a_gap_is_held_then_applied_when_the_gap_fills(
        self, backbone: Backbone
    ) -> None:
        envelopes = {
            n: Envelope(
                source="ucap/tally",
                type=Counted.event_type,
                subject="t1",
                sequence=n,
                data={"amount": n},
                actor="test",
            )
            for n in (1, 2, 3)
        }
        producer = AIOKafkaProducer(bootstrap_servers=backbone.bootstrap, acks="all")
        await producer.start()
        consumer = backbone.consumer()
        consumer.start()
        try:
            for n in (1, 3):
                await producer.send_and_wait(backbone.topic, envelopes[n].to_json(), key=b"t1")

            async def held() -> bool:
                return await backbone.database["held_events"].count_documents({}) == 1

            await eventually(held, timeout=30)
            assert (await view_of(backbone))["t1"]["sequences"] == [1]

            await producer.send_and_wait(backbone.topic, envelopes[2].to_json(), key=b"t1")

            async def caught_up() -> bool:
                return (await view_of(backbone))["t1"]["sequences"] == [1, 2, 3]

            await eventually(caught_up, timeout=30)
        finally:
            await consumer.stop()
            await producer.stop()
        assert await backbone.database["held_events"].count_documents({}) == 0
        assert json.loads(envelopes[3].to_json())["aggregateversion"] == 3
