"""Loading an aggregate from this process's memory and from snapshots, against the real server.

Each instance of ``Aggregates`` plays one replica: what it remembers is its own, so
a commit another one appended must still be folded in, and snapshots are written
only every ``SNAPSHOT_EVERY`` events.
"""

import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.aggregates import SNAPSHOT_EVERY, SNAPSHOTS, STATE_Z, Aggregates
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.eventstore import ConcurrencyConflict, EventStore
from ucap_shared.mongo import MongoClient

Document = dict[str, Any]
TALLY = "tally-1"


class Counted(EventData):
    event_type = "ucap.tally.counted.v1"
    tally_id: str


def _count(state: int | None, envelope: Envelope) -> int:
    return (state or 0) + 1


def replica() -> Aggregates[int]:
    return Aggregates(int, _count, kind="tally")


@pytest.fixture
async def store(mongo: MongoClient, unique: str) -> AsyncIterator[EventStore]:
    database: AsyncDatabase[Document] = mongo[f"test_aggregate_memory_{unique}"]
    events = EventStore(database, source="ucap/tally")
    await events.create_indexes()
    yield events
    await mongo.drop_database(database.name)


async def count_once(tallies: Aggregates[int], store: EventStore) -> int:
    loaded = await tallies.load(store, TALLY)
    await store.append(TALLY, loaded.version, [Counted(tally_id=TALLY)], actor="test")
    return loaded.version + 1


class TestTwoReplicas:
    async def test_each_folds_in_what_the_other_appended(self, store: EventStore) -> None:
        first, second = replica(), replica()

        await count_once(first, store)
        await count_once(second, store)
        await count_once(first, store)
        loaded = await first.load(store, TALLY)

        assert (loaded.state, loaded.version) == (3, 3)
        assert [e.sequence for e in loaded.newer] == [3], "read after the version it remembered"

    async def test_appending_after_a_remembered_state_that_is_stale_fails(
        self, store: EventStore
    ) -> None:
        first, second = replica(), replica()
        await count_once(first, store)
        await first.load(store, TALLY)
        await count_once(second, store)

        remembered = first.remembered(store, TALLY)

        assert remembered is not None
        assert remembered.version == 1
        with pytest.raises(ConcurrencyConflict):
            await store.append(TALLY, remembered.version, [Counted(tally_id=TALLY)], actor="t")

    async def test_an_aggregate_remembered_absent_is_read_again_once_another_created_it(
        self, store: EventStore
    ) -> None:
        first, second = replica(), replica()
        absent = await first.load(store, TALLY)
        await count_once(second, store)

        assert absent.state is None
        assert first.remembered(store, TALLY) is None, "not answered from memory as absent"
        loaded = await first.load(store, TALLY)
        assert (loaded.state, loaded.version) == (1, 1)


class TestSnapshots:
    async def test_are_written_every_snapshot_every_events_and_read_by_a_new_process(
        self, store: EventStore
    ) -> None:
        tallies = replica()
        for _ in range(SNAPSHOT_EVERY - 1):
            await count_once(tallies, store)
        await tallies.load(store, TALLY)
        none_yet = await store.database[SNAPSHOTS].find_one({"_id": TALLY})
        await count_once(tallies, store)
        await tallies.load(store, TALLY)
        snapshot = await store.database[SNAPSHOTS].find_one({"_id": TALLY})
        await count_once(tallies, store)

        fresh = await replica().load(store, TALLY)

        assert none_yet is None
        assert snapshot is not None
        assert snapshot["version"] == SNAPSHOT_EVERY
        assert (fresh.state, fresh.version) == (SNAPSHOT_EVERY + 1, SNAPSHOT_EVERY + 1)
        assert [e.sequence for e in fresh.newer] == [SNAPSHOT_EVERY + 1]

    async def test_are_kept_compressed_and_one_kept_as_a_json_string_is_still_read(
        self, store: EventStore
    ) -> None:
        tallies = replica()
        for _ in range(SNAPSHOT_EVERY):
            await count_once(tallies, store)
        await tallies.load(store, TALLY)
        snapshot = await store.database[SNAPSHOTS].find_one({"_id": TALLY})
        assert snapshot is not None
        assert "state" not in snapshot
        assert json.loads(zlib.decompress(snapshot[STATE_Z])) == SNAPSHOT_EVERY
        # As snapshots were once kept, with a state no fold gives: read, not folded anew.
        del snapshot[STATE_Z]
        await store.database[SNAPSHOTS].replace_one({"_id": TALLY}, {**snapshot, "state": "100"})

        fresh = await replica().load(store, TALLY)

        assert (fresh.state, fresh.version) == (100, SNAPSHOT_EVERY)
