"""Writes of hundreds of documents at once, the relay's marks and a consumer's stream
positions, leave FerretDB answering.

FerretDB v1 on PostgreSQL holds a pool connection for each statement of an update
command until the command ends: one command of more statements than its pool has
connections (300 here) stops it answering any update until it is restarted. Each
test runs on a FerretDB process of its own, so a wedge fails it alone.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

import ucap_postgres
from tests.support.infra import Infra, answers_ping, ferretdb_of_its_own
from tests.support.waiting import eventually
from ucap_shared.eventstore import EventStore
from ucap_shared.mongo import UPDATES_PER_COMMAND, MongoClient
from ucap_shared.positions import StreamPositions

# Past the local FerretDB's pool: one command of this many statements wedged it.
WIDE = 400


@pytest.fixture
async def own_server(infra: Infra, tmp_path: Path) -> AsyncIterator[MongoClient]:
    """A client of a FerretDB process of this test's own; a wedged update times out."""
    server = await ferretdb_of_its_own(tmp_path.name)
    server.start()
    client: MongoClient = AsyncMongoClient(
        server.uri, serverSelectionTimeoutMS=5000, socketTimeoutMS=30_000, tz_aware=True
    )
    try:
        await eventually(lambda: answers_ping(client), timeout=30)
        yield client
    finally:
        await client.close()
        server.process.stop()


async def _still_updates(client: MongoClient, database: str) -> bool:
    """One plain update answers: the server is not wedged."""
    result = await client[database]["probe"].update_one(
        {"_id": "probe"}, {"$inc": {"n": 1}}, upsert=True
    )
    return result.acknowledged


def test_three_commands_at_once_fit_in_the_local_pool_and_the_tests_go_past_it() -> None:
    assert 3 * UPDATES_PER_COMMAND <= ucap_postgres.FERRETDB_POOL_MAX_CONNS < WIDE


class TestWideUpdates:
    async def test_a_batch_moving_400_streams_writes_every_position(
        self, own_server: MongoClient, unique: str
    ) -> None:
        database = f"test_wide_positions_{unique}"
        positions = StreamPositions(own_server[database]["positions"], group="wide")
        streams = [f"pilot-{n}" for n in range(WIDE)]
        # The wedge needs existing documents: a first batch creates them, the next moves them.
        await positions.advance_all([("pilots", stream, 1, None) for stream in streams])

        await positions.advance_all([("pilots", stream, 2, None) for stream in streams])

        read = [await positions.last("pilots", stream) for stream in streams]
        assert read == [2] * WIDE
        assert await _still_updates(own_server, database)
        await own_server.drop_database(database)

    async def test_marking_400_commits_published_marks_each(
        self, own_server: MongoClient, unique: str
    ) -> None:
        database = own_server[f"test_wide_marks_{unique}"]
        store = EventStore(database, source="ucap/test")
        ids = [f"commit-{n}" for n in range(WIDE)]
        await store.commits.insert_many([{"_id": id_, "published": False} for id_ in ids])

        await store.mark_published(ids)

        assert await store.commits.count_documents({"published": True}) == WIDE
        assert await _still_updates(own_server, database.name)
        await own_server.drop_database(database.name)
