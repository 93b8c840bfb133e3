"""Within a consumer batch, a U-CAP's webhook subscriptions are read once for all its events."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ucap_reporting.projections import PILOT_INDEX_VIEW, UCAPS_VIEW
from ucap_reporting.store import MongoViews
from ucap_reporting.webhooks import announcing, subscriptions
from ucap_reporting.webhooks.deliveries import DELIVERIES
from ucap_shared.envelope import Envelope
from ucap_shared.mongo import MongoClient
from ucap_shared.view_batch import ViewBatch
from ucap_shared.views import VIEW_BATCH, Document

UCAP = "ucap-reads"


@pytest.fixture
async def database(mongo: MongoClient, unique: str) -> AsyncIterator[AsyncDatabase[Document]]:
    database = mongo[f"test_subscription_reads_{unique}"]
    await database[subscriptions.SUBSCRIPTIONS].insert_one(
        {
            "_id": "wh-reads",
            "url": "https://partner.example.org/hooks",
            "ucap_ids": [UCAP],
            "kinds": ["status_changed"],
            "owner": "ops:test",
            "city_id": None,
            "created_at": datetime.now(UTC) - timedelta(hours=1),
            "secret": "s",
        }
    )
    await database[UCAPS_VIEW].insert_one(
        {"_id": UCAP, "ucap_id": UCAP, "lead_city_id": "lead", "counterpart_city_ids": []}
    )
    yield database
    await mongo.drop_database(database.name)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The U-CAP of each read of subscriptions (each still made on the server)."""
    made: list[str] = []
    read = subscriptions.for_ucap

    async def counted(database: AsyncDatabase[Document], ucap_id: str) -> list[Document]:
        made.append(ucap_id)
        return await read(database, ucap_id)

    monkeypatch.setattr(subscriptions, "for_ucap", counted)
    return made


def ucap_event(sequence: int) -> Envelope:
    return Envelope(
        time=datetime.now(UTC),
        source="ucap/reporting",
        type="ucap.ucap.section_updated.v1",
        subject=UCAP,
        sequence=sequence,
        data={"ucap_id": UCAP, "section": "actions"},
        actor="test",
    )


async def announce_all(database: AsyncDatabase[Document], events: list[Envelope]) -> int:
    views = MongoViews(database)
    return sum([await announcing.announce(database, views, event) for event in events])


class TestSubscriptionReads:
    async def test_a_batch_reads_them_once_and_each_event_is_announced(
        self, database: AsyncDatabase[Document], reads: list[str]
    ) -> None:
        token = VIEW_BATCH.set(ViewBatch())
        try:
            written = await announce_all(database, [ucap_event(n) for n in range(1, 5)])
        finally:
            VIEW_BATCH.reset(token)

        assert written == 4
        assert await database[DELIVERIES].count_documents({}) == 4
        assert reads == [UCAP]

    async def test_events_applied_side_by_side_share_one_read(
        self, database: AsyncDatabase[Document], reads: list[str]
    ) -> None:
        views = MongoViews(database)
        token = VIEW_BATCH.set(ViewBatch())
        try:
            written = await asyncio.gather(
                *(announcing.announce(database, views, ucap_event(n)) for n in range(1, 5))
            )
        finally:
            VIEW_BATCH.reset(token)

        assert sum(written) == 4
        assert reads == [UCAP]

    async def test_outside_a_batch_each_event_reads_them(
        self, database: AsyncDatabase[Document], reads: list[str]
    ) -> None:
        written = await announce_all(database, [ucap_event(n) for n in range(1, 4)])

        assert written == 3
        assert reads == [UCAP] * 3


class TestACopyWrittenInTheBatch:
    async def test_is_read_back_from_the_batch_as_the_write_left_it(
        self, database: AsyncDatabase[Document], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        views = MongoViews(database)
        reads: list[str] = []
        find_one = AsyncCollection.find_one

        async def counted(collection: AsyncCollection[Document], *args: Any, **kwargs: Any) -> Any:
            reads.append(collection.name)
            return await find_one(collection, *args, **kwargs)

        token = VIEW_BATCH.set(ViewBatch())
        try:
            await views.apply(
                PILOT_INDEX_VIEW,
                "pilot-1",
                stream="pilot:pilot-1",
                sequence=1,
                project=lambda current: {"ucap_id": UCAP, "title": "Smart lighting"},
            )
            monkeypatch.setattr(AsyncCollection, "find_one", counted)
            copy = await views.get(PILOT_INDEX_VIEW, "pilot-1")
        finally:
            VIEW_BATCH.reset(token)

        assert reads == [], "not read from the server"
        assert copy == {"_id": "pilot-1", "ucap_id": UCAP, "title": "Smart lighting"}
        assert await views.get(PILOT_INDEX_VIEW, "pilot-1") == copy, "as stored"
        assert reads == [PILOT_INDEX_VIEW]
