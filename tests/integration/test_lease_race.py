"""The relay lease under racing contenders, and two relays racing for it.

FerretDB checks no more than ``_id`` when it updates a document, so a lease
taken by a conditional update lets several contenders win one expired term.
These tests race real contenders against the real MongoDB-protocol server.
"""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.errors import ProducerFenced
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.infra import Infra
from tests.support.kafka_reading import read_topic
from tests.support.tally import Counted
from tests.support.waiting import eventually
from ucap_shared.eventstore import EventStore
from ucap_shared.lease import CLOCK_MARGIN, Lease
from ucap_shared.mongo import MongoClient
from ucap_shared.relay import LEASE_EPOCH_HEADER, Relay
from ucap_shared.topics import TopicSpec, ensure_topics

Document = dict[str, Any]
Database = AsyncDatabase[Document]
CONTENDERS = 12
ROUNDS = 4
SHORT_TTL_SECONDS = 0.2


@pytest.fixture
async def database(mongo: MongoClient, unique: str) -> AsyncIterator[Database]:
    db = mongo[f"test_lease_race_{unique}"]
    yield db
    await mongo.drop_database(db.name)


async def all_terms_expired(database: Database) -> bool:
    """No lease document in the collection has a deadline still ahead."""
    running: int = await database["leases"].count_documents(
        {"expires_at": {"$gt": datetime.now(UTC)}}
    )
    return running == 0


async def contend(database: Database, leases: list[Lease]) -> list[Lease]:
    """A term runs out, then all of ``leases`` acquire at once: those told True.

    The term is taken by a lease of its own, with a tiny ttl, after the last
    round's winner released; the contenders' own terms are long, so a slow round
    never lets a second contender legitimately take an expired one.
    """
    for lease in leases:
        await lease.release()
    previous = Lease(database["leases"], "relay", ttl_seconds=SHORT_TTL_SECONDS)
    assert await eventually(previous.acquire, timeout=10, interval=0.05)
    await eventually(lambda: all_terms_expired(database), timeout=10, interval=0.05)
    answers = await asyncio.gather(*(lease.acquire() for lease in leases))
    return [lease for lease, won in zip(leases, answers, strict=True) if won]


def contenders(database: Database) -> list[Lease]:
    return [Lease(database["leases"], "relay", ttl_seconds=30) for _ in range(CONTENDERS)]


class TestContendersForAnExpiredLease:
    async def test_exactly_one_of_twelve_concurrent_contenders_wins_each_round(
        self, database: Database
    ) -> None:
        leases = contenders(database)

        winners = [len(await contend(database, leases)) for _ in range(ROUNDS)]

        assert winners == [1] * ROUNDS

    async def test_each_epoch_has_one_holder_whose_document_names_it(
        self, database: Database
    ) -> None:
        leases = contenders(database)
        for round_number in range(1, ROUNDS + 1):
            winners = await contend(database, leases)
            assert len(winners) == 1, f"round {round_number}: {len(winners)} contenders won"
            (winner,) = winners

            epoch = 2 * round_number  # after the epoch of the term that ran out
            assert winner.epoch == epoch
            assert [lease.epoch for lease in leases].count(None) == CONTENDERS - 1
            term = await database["leases"].find_one({"_id": f"relay#{epoch}"})
            assert term is not None
            assert term["holder"] == winner.holder


class TestAHeldLease:
    async def test_is_not_taken_before_its_deadline_and_is_taken_after(
        self, database: Database
    ) -> None:
        ttl = 1.0
        holder = Lease(database["leases"], "relay", ttl_seconds=ttl)
        contender = Lease(database["leases"], "relay", ttl_seconds=30)
        before_taking = datetime.now(UTC)
        assert await holder.acquire()

        assert not await contender.acquire()
        assert await eventually(contender.acquire, timeout=10, interval=0.05)

        assert datetime.now(UTC) - before_taking >= timedelta(seconds=ttl)
        assert not await holder.acquire(), "the old holder's term ran out and was taken"
        assert holder.epoch is None
        assert contender.epoch == 2

    async def test_a_holder_that_renews_keeps_it_past_its_first_deadline(
        self, database: Database
    ) -> None:
        ttl = 1.5
        holder = Lease(database["leases"], "relay", ttl_seconds=ttl)
        contender = Lease(database["leases"], "relay", ttl_seconds=ttl)
        assert await holder.acquire()
        deadline = datetime.now(UTC) + timedelta(seconds=1.5 * ttl)

        while datetime.now(UTC) < deadline:
            assert await holder.acquire()
            assert not await contender.acquire()
            await asyncio.sleep(ttl / 15)  # the renewal period under test

        assert holder.epoch == 1


class TestAHolderCheckingItStillHoldsTheLease:
    async def test_answers_from_its_clock_while_more_than_the_margin_of_its_term_runs(
        self, database: Database
    ) -> None:
        holder = Lease(database["leases"], "relay", ttl_seconds=30)
        assert await holder.acquire()
        await database["leases"].delete_many({})  # what the store says is not read

        assert await holder.still_held()

    async def test_reads_the_store_once_its_term_is_within_the_margin(
        self, database: Database
    ) -> None:
        ttl = CLOCK_MARGIN.total_seconds() / 2
        holder = Lease(database["leases"], "relay", ttl_seconds=ttl)
        assert await holder.acquire()
        assert await holder.still_held()
        await database["leases"].insert_one(
            {"_id": "relay#2", "epoch": 2, "holder": "successor", "expires_at": datetime.now(UTC)}
        )

        assert not await holder.still_held(), "it read the later epoch"
        assert holder.epoch is None

    async def test_a_renewal_landing_within_the_margin_is_not_remembered(
        self, database: Database
    ) -> None:
        """A contender that read the deadline as passed before the renewal landed may
        take the next epoch after it: the holder then reads the store, and sees it."""
        holder = Lease(database["leases"], "relay", ttl_seconds=60)
        deadline = datetime.now(UTC) + CLOCK_MARGIN / 2
        await database["leases"].insert_one(
            {"_id": "relay#1", "epoch": 1, "holder": holder.holder, "expires_at": deadline}
        )
        assert await holder.acquire(), "its own term, renewed"
        assert holder.epoch == 1
        await database["leases"].insert_one(
            {"_id": "relay#2", "epoch": 2, "holder": "contender", "expires_at": deadline}
        )

        assert not await holder.still_held(), "it read the later epoch"

    async def test_a_distrusted_holder_reads_the_store(self, database: Database) -> None:
        holder = Lease(database["leases"], "relay", ttl_seconds=60)
        assert await holder.acquire()
        await database["leases"].insert_one(
            {"_id": "relay#2", "epoch": 2, "holder": "successor", "expires_at": datetime.now(UTC)}
        )
        assert await holder.still_held(), "from memory, its term far from its end"

        holder.distrust()

        assert not await holder.still_held(), "it read the later epoch"


# --- two relays ----------------------------------------------------------------


class StalledStore(EventStore):
    """The one event store, read by a relay that stalls after reading what to publish.

    It models a holder paused (a long GC, a frozen VM) between reading its batch
    and sending it, for as long as its successor needs to take over.
    """

    def __init__(self, database: Database, *, source: str) -> None:
        super().__init__(database, source=source)
        self.stall = False
        self.stalled = asyncio.Event()
        self.resume = asyncio.Event()

    async def unpublished(self, limit: int) -> tuple[list[Document], int]:
        commits, pending = await super().unpublished(limit)
        if self.stall and commits:
            self.stall = False
            self.stalled.set()
            await self.resume.wait()
        return commits, pending


class WatchedRelay(Relay):
    """A relay that keeps the outcome of every batch it tries: commits published, or the error."""

    def __init__(self, store: EventStore, lease: Lease, **options: Any) -> None:
        super().__init__(store, lease, **options)
        self.outcomes: list[int | Exception] = []

    async def publish_pending(self) -> int:
        try:
            published = await super().publish_pending()
        except Exception as error:
            self.outcomes.append(error)
            raise
        self.outcomes.append(published)
        return published


@dataclass
class RelayRace:
    infra: Infra
    database: Database
    topic: str

    def relay(self, store: EventStore, ttl: float) -> WatchedRelay:
        return WatchedRelay(
            store,
            Lease(self.database["leases"], "relay", ttl_seconds=ttl),
            bootstrap_servers=self.infra.kafka_bootstrap_servers,
            topic=self.topic,
            poll_seconds=0.2,
        )

    async def published(self) -> list[tuple[str, int]]:
        return [(subject, version) for subject, version, _ in await self.epochs()]

    async def epochs(self) -> list[tuple[str, int, int]]:
        """Each record's aggregate, version and the lease epoch it says it was published under."""
        records = await read_topic(self.infra.kafka_bootstrap_servers, self.topic)
        ordered = sorted(records, key=lambda record: (record.partition, record.offset))
        return [
            (envelope["subject"], envelope["aggregateversion"], int(headers[LEASE_EPOCH_HEADER]))
            for envelope, headers in (
                (json.loads(record.value), dict(record.headers)) for record in ordered
            )
        ]


@pytest.fixture
async def race(infra: Infra, database: Database, unique: str) -> RelayRace:
    topic = f"ucap.test-lease-{unique}.events"
    await ensure_topics(infra.kafka_bootstrap_servers, [TopicSpec(topic, partitions=2)])
    return RelayRace(infra, database, topic)


async def append(store: EventStore, subjects: list[str], version: int) -> None:
    for subject in subjects:
        await store.append(subject, version, [Counted(amount=version + 1)], actor="test")


def assert_each_once_in_order(published: list[tuple[str, int]], expected: Counter[str]) -> None:
    counts = Counter(published)
    assert {key for key, count in counts.items() if count > 1} == set(), "published twice"
    for subject, events in expected.items():
        sequences = [sequence for s, sequence in published if s == subject]
        assert sequences == list(range(1, events + 1)), subject
    assert len(published) == sum(expected.values())


class TestTwoRelaysRacingForTheLease:
    async def test_a_holder_that_stalled_past_its_term_is_fenced_once_its_successor_published(
        self, race: RelayRace
    ) -> None:
        subjects = ["a", "b", "c"]
        stalled_store = StalledStore(race.database, source="ucap/tally")
        store = EventStore(race.database, source="ucap/tally")
        await store.create_indexes()
        first, second = race.relay(stalled_store, ttl=0.5), race.relay(store, ttl=30)
        try:
            await append(store, subjects, 0)
            assert await first.lease.acquire()
            assert await first.publish_pending() == 3  # its producer now runs

            await append(store, subjects, 1)
            stalled_store.stall = True
            stalled_batch = asyncio.create_task(first.publish_pending())
            await asyncio.wait_for(stalled_store.stalled.wait(), timeout=10)

            assert await eventually(second.lease.acquire, timeout=10, interval=0.05)
            assert await second.publish_pending() == 3  # the batch the first one holds
            await append(store, subjects, 2)
            assert await second.publish_pending() == 3

            stalled_store.resume.set()
            with pytest.raises(ProducerFenced):
                await asyncio.wait_for(stalled_batch, timeout=30)
            assert (first.lease.epoch, second.lease.epoch) == (1, 2)
        finally:
            stalled_store.resume.set()
            await first.stop()
            await second.stop()

        assert_each_once_in_order(await race.published(), Counter(dict.fromkeys(subjects, 3)))
        assert await store.backlog() == 0
        epochs = {(subject, version): epoch for subject, version, epoch in await race.epochs()}
        assert epochs == {(s, v): 1 if v == 1 else 2 for s in subjects for v in (1, 2, 3)}

    async def test_a_holder_that_stalled_before_it_had_a_producer_publishes_nothing_after(
        self, race: RelayRace
    ) -> None:
        subjects = ["a", "b"]
        stalled_store = StalledStore(race.database, source="ucap/tally")
        store = EventStore(race.database, source="ucap/tally")
        await store.create_indexes()
        first, second = race.relay(stalled_store, ttl=0.5), race.relay(store, ttl=30)
        try:
            await append(store, subjects, 0)
            assert await first.lease.acquire()
            stalled_store.stall = True
            stalled_batch = asyncio.create_task(first.publish_pending())
            await asyncio.wait_for(stalled_store.stalled.wait(), timeout=10)

            assert await eventually(second.lease.acquire, timeout=10, interval=0.05)
            assert await second.publish_pending() == 2

            stalled_store.resume.set()
            with pytest.raises(ProducerFenced):
                await asyncio.wait_for(stalled_batch, timeout=30)
        finally:
            stalled_store.resume.set()
            await first.stop()
            await second.stop()

        assert_each_once_in_order(await race.published(), Counter(dict.fromkeys(subjects, 1)))

    async def test_running_relays_deliver_every_event_once_in_order_across_a_takeover(
        self, race: RelayRace
    ) -> None:
        subjects = [f"agg-{n}" for n in range(4)]
        stalled_store = StalledStore(race.database, source="ucap/tally")
        store = EventStore(race.database, source="ucap/tally")
        await store.create_indexes()
        first, second = race.relay(stalled_store, ttl=1.0), race.relay(store, ttl=5)
        versions = 6
        first.start()
        try:
            await append(store, subjects, 0)
            await eventually(lambda: published_at_least(first, 4), timeout=30)
            second.start()
            stalled_store.stall = True
            for version in range(1, versions):
                await append(store, subjects, version)
                if version == 2:
                    await asyncio.wait_for(stalled_store.stalled.wait(), timeout=10)
                    stalled_batch = len(first.outcomes)
            await eventually(lambda: published_at_least(second, 1), timeout=30)
            stalled_store.resume.set()
            await eventually(lambda: tried(first, stalled_batch), timeout=30)
            await eventually(lambda: backlog_empty(store), timeout=30)

            assert isinstance(first.outcomes[stalled_batch], ProducerFenced)
            assert first.published_total == 4, "nothing published after the stall"
            assert second.lease.epoch == 2, "the second relay took the lease over"
        finally:
            stalled_store.resume.set()
            await first.stop()
            await second.stop()

        assert_each_once_in_order(
            await race.published(), Counter(dict.fromkeys(subjects, versions))
        )


async def published_at_least(relay: Relay, count: int) -> bool:
    return relay.published_total >= count


async def tried(relay: WatchedRelay, batch: int) -> bool:
    """``relay`` has an outcome for its ``batch``-th batch (counted from 0)."""
    return len(relay.outcomes) > batch


async def backlog_empty(store: EventStore) -> bool:
    return await store.backlog() == 0
