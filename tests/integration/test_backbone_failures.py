"""The backbone through failures: Kafka down, a consumer killed, views rebuilt."""

import asyncio
import hashlib
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import ucap_infra
from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, free_port
from tests.support.tally import Backbone, Counted, tally_handlers
from tests.support.waiting import eventually
from ucap_shared.app import ServiceDefinition
from ucap_shared.mongo import MongoClient
from ucap_shared.rebuild import rebuild
from ucap_shared.settings import ServiceSettings
from ucap_shared.topics import dead_letter_topic, ensure_topics, events_topic
from ucap_shared.views import REVISION


def make_backbone(bootstrap: str, mongo: MongoClient, unique: str) -> Backbone:
    return Backbone(
        bootstrap=bootstrap,
        database=mongo[f"test_failures_{unique}"],
        topic=events_topic(f"test-{unique}"),
        dlq=dead_letter_topic(f"test-{unique}"),
    )


@pytest.fixture
async def backbone(infra: Infra, mongo: MongoClient, unique: str) -> AsyncIterator[Backbone]:
    setup = make_backbone(infra.kafka_bootstrap_servers, mongo, unique)
    await ensure_topics(setup.bootstrap, setup.topics())
    await setup.store.create_indexes()
    yield setup
    await mongo.drop_database(setup.database.name)


async def view_documents(backbone: Backbone) -> list[dict[str, Any]]:
    return [doc async for doc in backbone.view.find({}).sort("_id", 1)]


def digest(documents: list[dict[str, Any]]) -> str:
    """Of the documents without their revision: a claim whose writer was killed is skipped."""
    content = [{k: v for k, v in document.items() if k != REVISION} for document in documents]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


async def write(backbone: Backbone, aggregates: int, versions: int) -> None:
    store = backbone.store
    for version in range(versions):
        for n in range(aggregates):
            await store.append(f"agg-{n}", version, [Counted(amount=n + version)], actor="test")


class TestKafkaOutage:
    @pytest.fixture
    def own_kafka(self, tmp_path: Path) -> Iterator[ucap_infra.KafkaServer]:
        """A broker of this test's own, so stopping it disturbs nothing else."""
        server = ucap_infra.KafkaServer(
            port=free_port(),
            controller_port=free_port(),
            heap="384m",
            home=tmp_path / "kafka",
            name=f"kafka-test-{tmp_path.name}",
        )
        server.prepare()
        yield server
        server.process.stop()

    async def _started(self, server: ucap_infra.KafkaServer) -> None:
        server.start()

        async def answers() -> bool:
            try:
                await server.ping()
            except Exception:  # noqa: BLE001 - not up yet
                return False
            return True

        await eventually(answers, timeout=60, interval=0.25)

    async def test_writes_succeed_while_kafka_is_down_and_all_reach_the_view_after(
        self, own_kafka: ucap_infra.KafkaServer, mongo: MongoClient, unique: str
    ) -> None:
        await self._started(own_kafka)
        backbone = make_backbone(own_kafka.bootstrap, mongo, unique)
        await ensure_topics(backbone.bootstrap, backbone.topics())
        await backbone.store.create_indexes()
        store = backbone.store
        relay, consumer = backbone.relay(store), backbone.consumer()
        relay.start()
        consumer.start()
        try:
            own_kafka.process.stop()
            await write(backbone, aggregates=10, versions=10)
            assert await store.count() == 100
            assert await store.backlog() > 0

            await self._started(own_kafka)

            async def all_applied_and_marked() -> bool:
                docs = await view_documents(backbone)
                applied = len(docs) == 10 and all(len(d["sequences"]) == 10 for d in docs)
                return applied and await store.backlog() == 0

            await eventually(all_applied_and_marked, timeout=120, interval=0.5)
        finally:
            await consumer.stop()
            await relay.stop()
            await mongo.drop_database(backbone.database.name)


class TestConsumerCrash:
    async def test_a_consumer_killed_mid_batch_ends_with_the_view_of_an_uninterrupted_run(
        self, backbone: Backbone, infra: Infra, mongo: MongoClient, unique: str
    ) -> None:
        await write(backbone, aggregates=10, versions=30)
        relay = backbone.relay(backbone.store)
        relay.start()
        try:
            await eventually(lambda: _backlog_empty(backbone), timeout=60)
        finally:
            await relay.stop()

        command = [
            sys.executable,
            "-m",
            "tests.support.tally_worker",
            infra.kafka_bootstrap_servers,
            infra.mongodb_uri,
            backbone.database.name,
            backbone.topic,
        ]
        worker = await asyncio.create_subprocess_exec(*command, cwd=REPO_ROOT)
        try:

            async def some_applied() -> bool:
                count = await backbone.view.count_documents({})
                return count > 0

            await eventually(some_applied, timeout=60)
            worker.kill()
            await worker.wait()
            applied_before_kill = sum(len(d["sequences"]) for d in await view_documents(backbone))
            assert applied_before_kill < 300, "the worker finished before it could be killed"

            worker = await asyncio.create_subprocess_exec(*command, cwd=REPO_ROOT)

            async def finished() -> bool:
                docs = await view_documents(backbone)
                return sum(len(d["sequences"]) for d in docs) == 300

            await eventually(finished, timeout=120, interval=0.5)
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()

        reference = Backbone(
            infra.kafka_bootstrap_servers,
            mongo[f"test_failures_{unique}_reference"],
            backbone.topic,
            backbone.dlq,
        )
        uninterrupted = reference.consumer(group="reference")
        uninterrupted.start()
        try:

            async def reference_finished() -> bool:
                docs = await view_documents(reference)
                return sum(len(d["sequences"]) for d in docs) == 300

            await eventually(reference_finished, timeout=120, interval=0.5)
            expected = await view_documents(reference)
        finally:
            await uninterrupted.stop()
            await mongo.drop_database(reference.database.name)

        interrupted = await view_documents(backbone)
        assert len(interrupted) == 10
        assert digest(interrupted) == digest(expected)


async def _backlog_empty(backbone: Backbone) -> bool:
    return await backbone.store.backlog() == 0


class TestRebuild:
    async def test_dropping_the_view_and_rebuilding_reproduces_it_exactly(
        self, backbone: Backbone, infra: Infra, unique: str
    ) -> None:
        await write(backbone, aggregates=5, versions=8)
        relay, consumer = backbone.relay(backbone.store), backbone.consumer()
        relay.start()
        consumer.start()
        try:

            async def all_applied() -> bool:
                docs = await view_documents(backbone)
                return sum(len(d["sequences"]) for d in docs) == 40

            await eventually(all_applied, timeout=60)
        finally:
            await consumer.stop()
            await relay.stop()
        before = await view_documents(backbone)
        await backbone.view.update_one({"_id": "agg-0"}, {"$set": {"total": -1}})

        settings = ServiceSettings(
            service_name=f"test-{unique}",
            database=backbone.database.name,
            consumer_group=consumer.group,
            kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
            mongodb_uri=infra.mongodb_uri,
        )
        definition = ServiceDefinition(
            title="tally",
            description="tally",
            handlers=lambda runtime: [
                tally_handlers(backbone.topic, runtime.database["tally_view"])
            ],
            views=("tally_view",),
        )
        lines: list[str] = []
        report = await rebuild(settings, definition, out=lines.append)

        assert report.ok, report.skipped
        assert report.replayed == 80, "40 events from the store and 40 from the topic"
        assert report.applied == 40
        assert digest(await view_documents(backbone)) == digest(before)
        assert any("replayed" in line for line in lines)
