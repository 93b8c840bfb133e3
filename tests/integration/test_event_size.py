"""An event larger than ``MAX_EVENT_BYTES`` is refused before it is appended, against the
real server: the store holds nothing of the commit, and the aggregate goes on."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.aggregates import AggregateCommits
from ucap_shared.app import ServiceRuntime
from ucap_shared.bounds import MAX_EVENT_BYTES
from ucap_shared.envelope import Envelope
from ucap_shared.errors import status_of
from ucap_shared.events import EventData
from ucap_shared.eventstore import EventStore
from ucap_shared.mongo import MongoClient
from ucap_shared.problems import EventTooLargeError
from ucap_shared.settings import ServiceSettings

Document = dict[str, Any]
NOTEBOOK = "notebook-1"


class Noted(EventData):
    event_type = "ucap.notebook.noted.v1"
    notebook_id: str
    text: str


def noted(size: int) -> Noted:
    """A note whose data is exactly ``size`` bytes of JSON."""
    empty = len(Noted(notebook_id=NOTEBOOK, text="").model_dump_json().encode())
    return Noted(notebook_id=NOTEBOOK, text="x" * (size - empty))


def _count(state: int | None, envelope: Envelope) -> int:
    return (state or 0) + 1


NOTEBOOKS = AggregateCommits(int, _count, kind="notebook")


@pytest.fixture
async def runtime(mongo: MongoClient, unique: str) -> AsyncIterator[ServiceRuntime]:
    settings = ServiceSettings(service_name="notebooks", database=f"test_event_size_{unique}")
    database: AsyncDatabase[Document] = mongo[settings.database]
    store = EventStore(database, source="ucap/notebooks")
    await store.create_indexes()
    yield ServiceRuntime(settings=settings, mongo=mongo, store=store)
    await mongo.drop_database(database.name)


async def write(runtime: ServiceRuntime, *events: Noted) -> int:
    loaded = await NOTEBOOKS.load_current(runtime, NOTEBOOK)
    committed = await NOTEBOOKS.commit(runtime, NOTEBOOK, loaded, events, actor="test")
    return len(committed.envelopes)


class TestAnEventAtTheLimit:
    async def test_is_appended_and_published_whole(self, runtime: ServiceRuntime) -> None:
        appended = await write(runtime, noted(MAX_EVENT_BYTES))

        stored = await runtime.store.load(NOTEBOOK)
        assert appended == 1
        assert len(stored[0].to_json()) < 1024 * 1024, "one Kafka record"
        assert stored[0].data["text"] == noted(MAX_EVENT_BYTES).text


class TestAnEventOverTheLimit:
    async def test_is_refused_naming_its_size_and_the_limit(self, runtime: ServiceRuntime) -> None:
        with pytest.raises(EventTooLargeError) as refused:
            await write(runtime, noted(MAX_EVENT_BYTES + 1))

        assert status_of(refused.value) == 413
        assert refused.value.kind == "too_large"
        assert refused.value.context == {
            "event_type": "ucap.notebook.noted.v1",
            "size_bytes": MAX_EVENT_BYTES + 1,
            "limit_bytes": MAX_EVENT_BYTES,
        }
        assert await runtime.store.count() == 0

    async def test_refuses_the_whole_commit_it_is_part_of(self, runtime: ServiceRuntime) -> None:
        small = noted(100)

        with pytest.raises(EventTooLargeError):
            await write(runtime, small, noted(MAX_EVENT_BYTES + 1), small)

        assert await runtime.store.count() == 0
        assert await runtime.store.version(NOTEBOOK) == 0

    async def test_leaves_the_aggregate_to_take_the_next_command(
        self, runtime: ServiceRuntime
    ) -> None:
        await write(runtime, noted(100))
        with pytest.raises(EventTooLargeError):
            await write(runtime, noted(2 * MAX_EVENT_BYTES))

        appended = await write(runtime, noted(100))

        assert appended == 1
        assert await runtime.store.version(NOTEBOOK) == 2
        loaded = await NOTEBOOKS.load(runtime.store, NOTEBOOK)
        assert (loaded.state, loaded.version) == (2, 2)

    async def test_counts_bytes_not_characters(self, runtime: ServiceRuntime) -> None:
        # "é" is two bytes in UTF-8: fewer characters than the limit, more bytes.
        wide = Noted(notebook_id=NOTEBOOK, text="é" * (MAX_EVENT_BYTES // 2 + 1))
        assert len(wide.text) < MAX_EVENT_BYTES

        with pytest.raises(EventTooLargeError):
            await write(runtime, wide)

        assert await runtime.store.count() == 0
