"""What a view writer remembers, and a consumer batch folds, against the real server.

A writer claims the revision after the document it wrote last without reading it,
and a batch writes each document once for all its events. Both are only right if a
change by anyone else makes them read again: these tests play other replicas
(each with a memory of its own) and check that no change is ever lost.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.replicas import replica
from ucap_reporting.store import MongoViews
from ucap_shared import views, written_documents
from ucap_shared.mongo import MongoClient
from ucap_shared.view_batch import ViewBatch

Document = dict[str, Any]
DOC = "doc-1"
views.batch_writes("memory_view")


@pytest.fixture
async def database(mongo: MongoClient, unique: str) -> AsyncIterator[AsyncDatabase[Document]]:
    db = mongo[f"test_view_memory_{unique}"]
    yield db
    await mongo.drop_database(db.name)


@pytest.fixture
def view(database: AsyncDatabase[Document]) -> AsyncCollection[Document]:
    return database["memory_view"]


def tagging(stream: str, sequence: int) -> views.Projection:
    def project(current: Document | None) -> Document:
        return {"tags": [*(current or {}).get("tags", []), f"{stream}#{sequence}"]}

    return project


async def apply(view: AsyncCollection[Document], stream: str, sequence: int) -> views.Outcome:
    return await views.apply_event(
        view, DOC, stream=stream, sequence=sequence, project=tagging(stream, sequence)
    )


async def stored(view: AsyncCollection[Document]) -> Document:
    found = await view.find_one({"_id": DOC})
    assert found is not None
    return found


async def claims(database: AsyncDatabase[Document]) -> int:
    return await database[views.REVISIONS].count_documents({})


class TestAWriterThatRemembersWhatItWrote:
    async def test_a_change_by_another_replica_since_is_kept(
        self, view: AsyncCollection[Document]
    ) -> None:
        first, second = written_documents.WrittenDocuments(), written_documents.WrittenDocuments()

        with replica(first):
            await apply(view, "a", 1)
        with replica(second):
            await apply(view, "b", 1)
        with replica(first):
            await apply(view, "a", 2)

        document = await stored(view)
        assert document["tags"] == ["a#1", "b#1", "a#2"]
        assert document[views.APPLIED] == {"a": 2, "b": 1}
        assert document[views.REVISION] == 3

    async def test_writes_on_what_it_remembers_when_nobody_else_wrote(
        self, view: AsyncCollection[Document]
    ) -> None:
        memory = written_documents.WrittenDocuments()
        with replica(memory):
            await apply(view, "a", 1)
            await view.update_one({"_id": DOC}, {"$set": {"tags": ["unclaimed edit"]}})
            await apply(view, "a", 2)

        # An edit outside the claims is not seen: the remembered document was used.
        assert (await stored(view))["tags"] == ["a#1", "a#2"]

    async def test_a_duplicate_is_answered_from_memory(
        self, view: AsyncCollection[Document]
    ) -> None:
        with replica(written_documents.WrittenDocuments()):
            await apply(view, "a", 1)
            assert await apply(view, "a", 1) is views.Outcome.DUPLICATE

        assert (await stored(view))["tags"] == ["a#1"]


class TestAConsumerBatch:
    async def test_writes_each_document_once_for_all_its_events(
        self, database: AsyncDatabase[Document], view: AsyncCollection[Document]
    ) -> None:
        batch = ViewBatch()
        token = views.VIEW_BATCH.set(batch)
        try:
            outcomes = [await apply(view, "a", n) for n in (1, 2, 3, 2)]
            assert await view.find_one({"_id": DOC}) is None, "nothing written before the end"
            await batch.write()
        finally:
            views.VIEW_BATCH.reset(token)

        assert outcomes[-1] is views.Outcome.DUPLICATE
        document = await stored(view)
        assert document["tags"] == ["a#1", "a#2", "a#3"]
        assert document[views.REVISION] == 3, "one revision per event, as a rebuild counts"
        assert await claims(database) == 1

    async def test_partitions_side_by_side_read_a_document_once_and_lose_no_change(
        self, database: AsyncDatabase[Document], view: AsyncCollection[Document]
    ) -> None:
        with replica(written_documents.WrittenDocuments()):
            await apply(view, "old", 1)
        batch = ViewBatch()
        token = views.VIEW_BATCH.set(batch)
        try:
            outcomes = await asyncio.gather(*(apply(view, stream, 1) for stream in "abcd"))
            await batch.write()
        finally:
            views.VIEW_BATCH.reset(token)

        assert set(outcomes) == {views.Outcome.APPLIED}
        document = await stored(view)
        assert sorted(document["tags"]) == ["a#1", "b#1", "c#1", "d#1", "old#1"]
        assert document[views.REVISION] == 5
        assert await claims(database) == 2, "one claim for the first write, one for the batch"

    async def test_a_change_made_meanwhile_is_kept_and_the_batch_applied_on_top(
        self, view: AsyncCollection[Document]
    ) -> None:
        with replica(written_documents.WrittenDocuments()):
            await apply(view, "a", 1)
        batch = ViewBatch()
        with replica(written_documents.WrittenDocuments()):
            token = views.VIEW_BATCH.set(batch)
            try:
                await apply(view, "a", 2)
                await apply(view, "b", 1)
            finally:
                views.VIEW_BATCH.reset(token)
        with replica(written_documents.WrittenDocuments()):
            await apply(view, "c", 1)  # another replica, while the batch is not written yet
            await apply(view, "b", 1)  # and one event the batch holds too
        with replica(written_documents.WrittenDocuments()):
            await batch.write()

        document = await stored(view)
        assert document["tags"] == ["a#1", "c#1", "b#1", "a#2"]
        assert document[views.APPLIED] == {"a": 2, "b": 1, "c": 1}
        assert document[views.REVISION] == 4

    async def test_its_reads_see_what_it_holds(self, database: AsyncDatabase[Document]) -> None:
        store = MongoViews(database)
        await store.apply("memory_view", "x", stream="s", sequence=1, project=lambda _: {"k": 1})
        await store.apply("memory_view", "y", stream="s", sequence=1, project=lambda _: {"k": 1})
        batch = ViewBatch()
        token = views.VIEW_BATCH.set(batch)
        try:
            await store.apply(
                "memory_view", "x", stream="s", sequence=2, project=lambda _: {"k": 2}
            )
            await store.apply(
                "memory_view", "z", stream="s", sequence=1, project=lambda _: {"k": 1}
            )
            seen = await store.get("memory_view", "x")
            with_one = sorted(d["_id"] for d in await store.find_in("memory_view", "k", [1]))
            stored_x = await database["memory_view"].find_one({"_id": "x"})
        finally:
            views.VIEW_BATCH.reset(token)

        assert seen == {"_id": "x", "k": 2}
        assert with_one == ["y", "z"]
        assert stored_x is not None
        assert stored_x["k"] == 1

    async def test_a_document_found_once_is_not_read_again_in_the_batch(
        self, database: AsyncDatabase[Document]
    ) -> None:
        store = MongoViews(database)
        await store.apply("lasting_view", "u1", stream="s", sequence=1, project=lambda _: {"k": 1})
        batch = ViewBatch()
        token = views.VIEW_BATCH.set(batch)
        try:
            first = await store.present("lasting_view", "u1")
            absent = await store.present("lasting_view", "u2")
            await database["lasting_view"].delete_one({"_id": "u1"})  # it is never read again
            again = await store.present("lasting_view", "u1")
            await store.apply(
                "lasting_view", "u2", stream="s", sequence=1, project=lambda _: {"k": 1}
            )
            later = await store.present("lasting_view", "u2")
        finally:
            views.VIEW_BATCH.reset(token)
        outside = await store.present("lasting_view", "u1")

        assert (first, absent, again, later) == (True, False, True, True)
        assert outside is False
