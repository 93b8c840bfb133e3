"""A commit Kafka refuses is parked; it blocks only its own aggregate, and readiness says so.

Against the real broker and MongoDB-protocol server. The oversized commits are
inserted into the event store directly, as an older event (or one written under
a larger bound) would be there, bypassing whatever checks an append makes.
"""

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from tests.support.infra import Infra
from tests.support.kafka_reading import read_topic
from tests.support.processes import free_port
from tests.support.tally import Counted
from tests.support.waiting import eventually
from ucap_shared.envelope import Envelope
from ucap_shared.eventstore import EventStore, commit_id
from ucap_shared.health import readiness
from ucap_shared.kafka import MAX_RECORD_BYTES
from ucap_shared.lease import Lease
from ucap_shared.mongo import MongoClient
from ucap_shared.relay import Relay
from ucap_shared.relay_ops import parked_router
from ucap_shared.topics import TOPIC_CONFIG, TopicSpec, ensure_topics

Document = dict[str, Any]
TOPIC_LIMIT = 64 * 1024
"""A topic allowing less than the producer does, as after a limit was lowered."""


class CountingRelay(Relay):
    """A relay that counts the batches that failed (Kafka down, say)."""

    failures = 0

    async def publish_pending(self) -> int:
        try:
            return await super().publish_pending()
        except Exception:
            self.failures += 1
            raise


@dataclass
class Outbox:
    """One test's own store, topic and relay, its metric labelled by its own source."""

    bootstrap: str
    store: EventStore
    topic: str

    def relay(self, *, bootstrap: str | None = None) -> "CountingRelay":
        return CountingRelay(
            self.store,
            Lease(self.store.database["leases"], "relay", ttl_seconds=5),
            bootstrap_servers=bootstrap or self.bootstrap,
            topic=self.topic,
            poll_seconds=0.3,
            first_retry_seconds=0.05,
            max_backoff_seconds=0.5,
        )

    async def commit(self, aggregate_id: str, sequence: int) -> Document:
        found = await self.store.commit_at(aggregate_id, sequence)
        assert found is not None
        return found

    async def published_sequences(self) -> dict[str, list[int]]:
        """Each aggregate's event sequences on the topic, in the order they are there."""
        sequences: dict[str, list[int]] = defaultdict(list)
        for record in await read_topic(self.bootstrap, self.topic):
            envelope = Envelope.from_json(record.value or b"")
            sequences[envelope.subject].append(envelope.sequence)
        return dict(sequences)

    def parked_gauge(self) -> float | None:
        return REGISTRY.get_sample_value(
            "ucap_relay_parked_commits", {"service": self.store.source}
        )


async def outbox_with(
    infra: Infra, mongo: MongoClient, unique: str, topic_config: dict[str, str]
) -> Outbox:
    store = EventStore(mongo[f"test_parking_{unique}"], source=f"ucap/parking-{unique}")
    topic = f"ucap.parking-{unique}.events"
    await ensure_topics(
        infra.kafka_bootstrap_servers, [TopicSpec(topic, partitions=3, config=topic_config)]
    )
    await store.create_indexes()
    return Outbox(infra.kafka_bootstrap_servers, store, topic)


@pytest.fixture
async def outbox(infra: Infra, mongo: MongoClient, unique: str) -> AsyncIterator[Outbox]:
    setup = await outbox_with(infra, mongo, unique, dict(TOPIC_CONFIG))
    yield setup
    await mongo.drop_database(setup.store.database.name)


@pytest.fixture
async def strict_outbox(infra: Infra, mongo: MongoClient, unique: str) -> AsyncIterator[Outbox]:
    config = {**TOPIC_CONFIG, "max.message.bytes": str(TOPIC_LIMIT)}
    setup = await outbox_with(infra, mongo, unique, config)
    yield setup
    await mongo.drop_database(setup.store.database.name)


def event_document(aggregate_id: str, sequence: int, padding: int) -> Document:
    envelope = Envelope(
        source="ucap/tally",
        type="ucap.tally.counted.v1",
        subject=aggregate_id,
        sequence=sequence,
        data={"amount": 1, "padding": "x" * padding},
        actor="test",
    )
    document = envelope.model_dump(mode="json")
    document["time"] = datetime.now(UTC).replace(microsecond=0)
    return document


async def insert_commit(store: EventStore, aggregate_id: str, padding: int) -> None:
    """The aggregate's first commit, one event with ``padding`` bytes, put in the store as is."""
    await store.commits.insert_one(
        {
            "_id": commit_id(aggregate_id, 1),
            "aggregate_id": aggregate_id,
            "sequence": 1,
            "last_sequence": 1,
            "published": False,
            "events": [event_document(aggregate_id, 1, padding)],
        }
    )
    store.appended.set()


async def is_parked(outbox: Outbox, aggregate_id: str) -> bool:
    published: object = (await outbox.commit(aggregate_id, 1))["published"]
    return published == "parked"


async def is_published(outbox: Outbox, aggregate_id: str, sequence: int) -> bool:
    published: object = (await outbox.commit(aggregate_id, sequence))["published"]
    return published is True


async def parked_over_http(store: EventStore) -> list[dict[str, Any]]:
    """``GET /ops/relay/parked`` of an app whose runtime holds ``store``."""
    app = FastAPI()
    app.include_router(parked_router())
    app.state.runtime = SimpleNamespace(store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        answer = await client.get("/ops/relay/parked")
    assert answer.status_code == 200, answer.text
    parked: list[dict[str, Any]] = answer.json()
    return parked


async def nothing_parked(relay: Relay) -> bool:
    return not relay.parked


class TestACommitTooLargeForTheProducer:
    async def test_is_parked_while_others_flow_and_its_aggregate_waits_until_retried(
        self, outbox: Outbox
    ) -> None:
        store = outbox.store
        await insert_commit(store, "huge", padding=MAX_RECORD_BYTES + 1)
        await store.append("huge", 1, [Counted(amount=2)], actor="test")
        await store.append("small", 0, [Counted(amount=1)], actor="test")
        relay = outbox.relay()
        relay.start()
        try:
            await eventually(lambda: is_parked(outbox, "huge"), timeout=30)
            await store.append("small", 1, [Counted(amount=1)], actor="test")
            await eventually(lambda: is_published(outbox, "small", 2), timeout=30)

            [parked] = await store.parked()
            assert (parked.commit_id, parked.tries) == ("huge@1", 5)
            assert "MessageSizeTooLargeError" in parked.error
            assert await store.backlog() == 2, "the parked commit and the one behind it"
            assert not await is_published(outbox, "huge", 2)
            assert await outbox.published_sequences() == {"small": [1, 2]}
            assert [commit.commit_id for commit in relay.parked] == ["huge@1"]
            assert outbox.parked_gauge() == 1
            ready = await readiness({"relay": relay.check}, timeout=5)
            assert (ready.status, ready.failing, ready.degraded) == ("degraded", [], ["relay"])
            assert ready.details["relay"]["parked_commits"] == 1
            first = ready.details["relay"]["first_parked"]
            assert isinstance(first, dict)
            assert first["commit_id"] == "huge@1"
            assert "MessageSizeTooLargeError" in str(first["error"])
            [listed] = await parked_over_http(store)
            assert (listed["commit_id"], listed["tries"]) == ("huge@1", 5)

            # The cause fixed (the event made smaller), the commit is retried.
            await store.commits.update_one(
                {"_id": "huge@1"}, {"$set": {"events": [event_document("huge", 1, 10)]}}
            )
            assert await store.retry_parked("huge@1", by="test")
            await eventually(lambda: is_published(outbox, "huge", 2), timeout=30)
            await eventually(lambda: nothing_parked(relay), timeout=10)
        finally:
            await relay.stop()

        assert await outbox.published_sequences() == {"small": [1, 2], "huge": [1, 2]}
        assert await store.parked() == []
        assert await store.backlog() == 0
        assert outbox.parked_gauge() == 0
        assert (await readiness({"relay": relay.check}, timeout=5)).status == "unavailable"


class TestARecordTheBrokerRefuses:
    async def test_is_found_in_its_batch_and_parked_alone(self, strict_outbox: Outbox) -> None:
        store = strict_outbox.store
        for n in range(6):
            await store.append(f"agg-{n}", 0, [Counted(amount=n)], actor="test")
        await insert_commit(store, "agg-3b", padding=2 * TOPIC_LIMIT)
        for n in range(6):
            await store.append(f"agg-{n}", 1, [Counted(amount=n)], actor="test")
        relay = strict_outbox.relay()
        relay.start()
        try:

            async def all_but_one_published() -> bool:
                return await store.backlog() == 1

            await eventually(all_but_one_published, timeout=60)
        finally:
            await relay.stop()

        parked = await store.parked()
        assert [commit.commit_id for commit in parked] == ["agg-3b@1"]
        assert "MessageSizeTooLargeError" in parked[0].error
        published = await strict_outbox.published_sequences()
        assert published == {f"agg-{n}": [1, 2] for n in range(6)}


class TestKafkaDown:
    async def test_parks_nothing_and_keeps_every_commit(self, outbox: Outbox) -> None:
        store = outbox.store
        await store.append("kept", 0, [Counted(amount=1)], actor="test")
        relay = outbox.relay(bootstrap=f"127.0.0.1:{free_port()}")
        relay.start()
        try:

            async def failed(times: int) -> bool:
                return relay.failures >= times

            await eventually(lambda: failed(3), timeout=30)
            ready = await readiness({"relay": relay.check}, timeout=5)
        finally:
            await relay.stop()

        assert await store.parked() == []
        assert (await outbox.commit("kept", 1))["published"] is False
        assert ready.status == "ready"


class TestARetryThatStoppedHalfWay:
    async def test_is_completed_by_the_relay_publishing_the_commit(self, outbox: Outbox) -> None:
        store = outbox.store
        await store.append("halfway", 0, [Counted(amount=1)], actor="test")
        await store.park(await outbox.commit("halfway", 1), error="refused", tries=5)
        # The commit made pending again, its record not yet marked retried.
        await store.commits.update_one({"_id": "halfway@1"}, {"$set": {"published": False}})
        await store.append("halfway", 1, [Counted(amount=1)], actor="test")
        relay = outbox.relay()
        relay.start()
        try:

            async def all_published() -> bool:
                return await store.backlog() == 0

            await eventually(all_published, timeout=30)
        finally:
            await relay.stop()

        assert await store.parked() == []
        assert await outbox.published_sequences() == {"halfway": [1, 2]}


class TestACommitWithNoValidEvents:
    async def test_is_parked_and_the_others_flow(self, outbox: Outbox) -> None:
        store = outbox.store
        await store.commits.insert_one(
            {
                "_id": "edited@1",
                "aggregate_id": "edited",
                "sequence": 1,
                "last_sequence": 1,
                "published": False,
                "events": [{"subject": "edited", "sequence": "one"}],
            }
        )
        await store.append("fine", 0, [Counted(amount=1)], actor="test")
        relay = outbox.relay()
        relay.start()
        try:
            await eventually(lambda: is_parked(outbox, "edited"), timeout=30)
            await eventually(lambda: is_published(outbox, "fine", 1), timeout=30)
        finally:
            await relay.stop()

        [parked] = await store.parked()
        assert "UnusableCommitError: edited@1 holds no valid events" in parked.error
