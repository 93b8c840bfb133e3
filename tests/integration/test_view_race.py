"""Racing writers of one view document, against the real MongoDB-protocol server.

The HTTP handler that appended, the consumer and other replicas all apply the
same events to the same document, each trying every sequence in order. A
conditional replace is no guard on FerretDB (it checks nothing but ``_id``), so
these tests race real writers and check what the document ends as, and what a
reader saw on the way.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared import views
from ucap_shared.mongo import MongoClient

Document = dict[str, Any]
Database = AsyncDatabase[Document]
DOC = "doc-1"


@pytest.fixture
async def database(mongo: MongoClient, unique: str) -> AsyncIterator[Database]:
    db = mongo[f"test_view_race_{unique}"]
    yield db
    await mongo.drop_database(db.name)


@pytest.fixture
def view(database: Database) -> AsyncCollection[Document]:
    return database["race_view"]


def appending(stream: str, sequence: int) -> views.Projection:
    """The projection: the document lists, per stream, the sequences applied to it."""

    def project(current: Document | None) -> Document:
        seen: dict[str, list[int]] = dict((current or {}).get("seen", {}))
        return {"seen": {**seen, stream: [*seen.get(stream, []), sequence]}}

    return project


Applied = list[tuple[str, int]]
"""What one writer was told it applied (not a duplicate): (stream, sequence) pairs."""


async def write_in_order(
    view: AsyncCollection[Document], stream: str, last: int, *, contiguous: bool = False
) -> Applied:
    """One writer: every sequence of ``stream`` from 1 to ``last``, in order."""
    apply = partial(views.apply_event, contiguous=True) if contiguous else views.apply_event
    applied: Applied = []
    for sequence in range(1, last + 1):
        outcome = await apply(
            view, DOC, stream=stream, sequence=sequence, project=appending(stream, sequence)
        )
        if outcome is views.Outcome.APPLIED:
            applied.append((stream, sequence))
    return applied


async def watch_applied(
    view: AsyncCollection[Document], seen: list[dict[str, int]], done: asyncio.Event
) -> None:
    """A reader: every ``_applied`` it observes, until ``done`` and once after."""
    while True:
        finished = done.is_set()
        document = await view.find_one({"_id": DOC}) or {}
        seen.append(dict(document.get(views.APPLIED, {})))
        if finished:
            return
        await asyncio.sleep(0)


@dataclass
class Race:
    applied: Applied
    """Every writer's applied events, together."""
    observed: list[dict[str, int]]
    """Each ``_applied`` the reader saw, in order."""


async def race(
    view: AsyncCollection[Document], writers: list[tuple[str, int]], *, contiguous: bool = False
) -> Race:
    """Run the writers (stream, last sequence) concurrently, and a reader of the document."""
    observed: list[dict[str, int]] = []
    done = asyncio.Event()
    reader = asyncio.create_task(watch_applied(view, observed, done))
    try:
        applied = await asyncio.gather(
            *(write_in_order(view, stream, last, contiguous=contiguous) for stream, last in writers)
        )
    finally:
        done.set()
        await reader
    return Race([event for writer in applied for event in writer], observed)


async def document(view: AsyncCollection[Document]) -> Document:
    found = await view.find_one({"_id": DOC})
    assert found is not None
    return found


class TestWritersOfOneStream:
    async def test_three_writers_apply_each_sequence_once_and_leave_it_once_in_order(
        self, view: AsyncCollection[Document]
    ) -> None:
        last = 15

        result = await race(view, [("s1", last)] * 3)

        assert sorted(result.applied) == [("s1", n) for n in range(1, last + 1)]
        found = await document(view)
        assert found["seen"] == {"s1": list(range(1, last + 1))}
        assert found[views.APPLIED] == {"s1": last}

    async def test_contiguous_writers_apply_each_sequence_once_and_leave_it_once_in_order(
        self, view: AsyncCollection[Document]
    ) -> None:
        last = 15

        result = await race(view, [("s1", last)] * 3, contiguous=True)

        assert sorted(result.applied) == [("s1", n) for n in range(1, last + 1)]
        found = await document(view)
        assert found["seen"] == {"s1": list(range(1, last + 1))}
        assert found[views.APPLIED] == {"s1": last}


class TestWritersOfSeveralStreamsOnOneDocument:
    async def test_no_stream_loses_an_update(self, view: AsyncCollection[Document]) -> None:
        last = 8
        streams = [f"pilot:{n}" for n in range(4)]

        result = await race(view, [(stream, last) for stream in streams])

        found = await document(view)
        assert found["seen"] == {stream: list(range(1, last + 1)) for stream in streams}
        assert found[views.APPLIED] == dict.fromkeys(streams, last)
        assert len(result.applied) == len(streams) * last


class TestAReaderDuringTheRace:
    async def test_never_sees_a_streams_applied_sequence_move_back(
        self, view: AsyncCollection[Document]
    ) -> None:
        last = 8
        streams = [f"pilot:{n}" for n in range(3)]

        result = await race(view, [(stream, last) for stream in streams for _ in range(2)])

        assert len(result.observed) > 1, "the reader read during the race"
        moved_back = [
            (stream, before[stream], after.get(stream, 0))
            for before, after in itertools.pairwise(result.observed)
            for stream in before
            if after.get(stream, 0) < before[stream]
        ]
        assert moved_back == []
        assert result.observed[-1] == dict.fromkeys(streams, last)


class TestContiguousStreams:
    async def test_an_event_after_a_gap_raises_stream_gap_and_changes_nothing(
        self, view: AsyncCollection[Document]
    ) -> None:
        await write_in_order(view, "s1", 1, contiguous=True)

        with pytest.raises(views.StreamGap) as raised:
            await views.apply_event(
                view, DOC, stream="s1", sequence=3, project=appending("s1", 3), contiguous=True
            )

        gap = raised.value
        assert (gap.stream, gap.last, gap.sequence) == ("s1", 1, 3)
        found = await document(view)
        assert found["seen"] == {"s1": [1]}
        assert found[views.APPLIED] == {"s1": 1}

    async def test_the_next_event_applies_and_a_repeat_is_a_duplicate(
        self, view: AsyncCollection[Document]
    ) -> None:
        await write_in_order(view, "s1", 1, contiguous=True)

        applied = await views.apply_event(
            view, DOC, stream="s1", sequence=2, project=appending("s1", 2), contiguous=True
        )
        repeated = await views.apply_event(
            view, DOC, stream="s1", sequence=1, project=appending("s1", 1), contiguous=True
        )

        assert (applied, repeated) == (views.Outcome.APPLIED, views.Outcome.DUPLICATE)
        assert (await document(view))["seen"] == {"s1": [1, 2]}

    async def test_a_first_event_other_than_one_is_a_gap_after_zero(
        self, view: AsyncCollection[Document]
    ) -> None:
        with pytest.raises(views.StreamGap) as raised:
            await views.apply_event(
                view, DOC, stream="s1", sequence=2, project=appending("s1", 2), contiguous=True
            )

        assert raised.value.last == 0
        assert await view.find_one({"_id": DOC}) is None
