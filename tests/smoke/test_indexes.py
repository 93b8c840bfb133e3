"""On FerretDB over PostgreSQL, an equality on an indexed field is an index scan."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.explain import (
    PostgresError,
    analyze,
    explain,
    ferretdb_on_postgresql,
    plan_uses_index,
    postgres_port,
)
from tests.support.infra import Infra
from ucap_shared.mongo import MongoClient

Document = dict[str, Any]
COLLECTION = "commits"
AGGREGATES, SEQUENCES = 300, 10


@pytest.fixture
async def commits(
    infra: Infra, mongo: MongoClient, unique: str
) -> AsyncIterator[AsyncDatabase[Document]]:
    """A database whose commits collection is indexed as the event store's, filled, analyzed."""
    if not await ferretdb_on_postgresql(mongo):
        pytest.skip(f"{infra.mongodb_uri} is not FerretDB on PostgreSQL, as make infra-up runs")
    db = mongo[f"indexes_{unique}"]
    collection = db[COLLECTION]
    await collection.create_index(
        [("aggregate_id", ASCENDING), ("sequence", ASCENDING)], unique=True
    )
    await collection.create_index("published")
    await collection.insert_many(
        [
            {
                "_id": f"agg-{n}-{sequence}",
                "aggregate_id": f"agg-{n}",
                "sequence": sequence,
                "published": (n, sequence) != (7, 3),
            }
            for n in range(AGGREGATES)
            for sequence in range(SEQUENCES)
        ]
    )
    try:
        try:
            await analyze(db.name, COLLECTION)
        except (PostgresError, LookupError) as error:
            port = postgres_port()
            pytest.skip(f"FerretDB does not store in the local PostgreSQL (port {port}): {error}")
        yield db
    finally:
        await mongo.drop_database(db.name)


@pytest.mark.parametrize(
    "query",
    [{"_id": "agg-42-5"}, {"aggregate_id": "agg-42"}, {"published": False}],
    ids=["_id", "aggregate_id", "published"],
)
async def test_an_equality_on_an_indexed_field_is_served_by_its_gin_twin(
    commits: AsyncDatabase[Document], query: Document
) -> None:
    explained = await explain(commits, COLLECTION, query)

    assert explained.pushdown
    assert explained.indexes, explained.plan
    assert all(name.endswith("_gin") for name in explained.indexes), explained.indexes
    assert await plan_uses_index(commits, COLLECTION, query)


async def test_in_is_not_pushed_down_and_scans_the_table(
    commits: AsyncDatabase[Document],
) -> None:
    explained = await explain(commits, COLLECTION, {"aggregate_id": {"$in": ["agg-1", "agg-2"]}})

    assert not explained.pushdown
    assert explained.plan["Node Type"] == "Seq Scan"
