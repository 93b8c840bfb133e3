"""The event store: each service's source of truth and its outbox.

One document per append (a *commit*) holds every event of that append, so a
write is a single atomic insert. A unique index on ``(aggregate_id,
sequence)``, where ``sequence`` is the commit's first event sequence, lets
exactly one of two concurrent writers at the same expected version win.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.logs import correlation_id, occurred_at
from ucap_shared.metrics import EVENTS_APPENDED

Document = dict[str, Any]


class ConcurrencyConflict(Exception):  # noqa: N818 - a domain outcome, not a programming error
    """Another writer appended to the aggregate first."""

    def __init__(self, aggregate_id: str, expected_sequence: int) -> None:
        super().__init__(
            f"{aggregate_id} changed concurrently (expected version {expected_sequence})"
        )
        self.aggregate_id = aggregate_id
        self.expected_sequence = expected_sequence


@dataclass(frozen=True)
class Cursor:
    """A position in the store's replay order: after this aggregate's sequence."""

    aggregate_id: str
    sequence: int


class EventStore:
    def __init__(self, database: AsyncDatabase[Document], *, source: str) -> None:
        self._commits: AsyncCollection[Document] = database["events"]
        self.source = source
        self.appended = asyncio.Event()
        """Set after every append; the relay waits on it instead of polling."""

    @property
    def commits(self) -> AsyncCollection[Document]:
        return self._commits

    async def create_indexes(self) -> None:
        await self._commits.create_index(
            [("aggregate_id", ASCENDING), ("sequence", ASCENDING)], unique=True
        )
        await self._commits.create_index(
            [("published", ASCENDING), ("aggregate_id", ASCENDING), ("sequence", ASCENDING)]
        )

    async def append(
        self,
        aggregate_id: str,
        expected_sequence: int,
        events: Sequence[EventData],
        *,
        actor: str,
        causation_id: str | None = None,
    ) -> list[Envelope]:
        """Append ``events`` after version ``expected_sequence`` of the aggregate.

        Raises :class:`ConcurrencyConflict` when that version is no longer the latest.
        """
        if not events:
            return []
        now = _in_milliseconds(occurred_at.get() or datetime.now(UTC))
        envelopes = [
            Envelope(
                time=now,
                source=self.source,
                type=event.event_type,
                subject=aggregate_id,
                sequence=expected_sequence + offset,
                data=event.model_dump(mode="json"),
                correlationid=correlation_id.get(),
                causationid=causation_id,
                actor=actor,
            )
            for offset, event in enumerate(events, start=1)
        ]
        commit = {
            "_id": f"{aggregate_id}@{expected_sequence + 1}",
            "aggregate_id": aggregate_id,
            "sequence": expected_sequence + 1,
            "last_sequence": envelopes[-1].sequence,
            "published": False,
            "events": [_to_document(envelope) for envelope in envelopes],
        }
        try:
            await self._commits.insert_one(commit)
        except DuplicateKeyError as error:
            raise ConcurrencyConflict(aggregate_id, expected_sequence) from error
        self.appended.set()
        for envelope in envelopes:
            EVENTS_APPENDED.labels(self.source, envelope.type).inc()
        return envelopes

    async def load(self, aggregate_id: str, *, until: datetime | None = None) -> list[Envelope]:
        """Every event of one aggregate in order.

        With ``until``, the stream up to its first event after that moment: a
        prefix, so what is folded from it is a state the aggregate really had.
        """
        envelopes: list[Envelope] = []
        cursor = self._commits.find({"aggregate_id": aggregate_id}).sort("sequence", ASCENDING)
        async for commit in cursor:
            for envelope in map(_from_document, commit["events"]):
                if until is not None and envelope.time > until:
                    return envelopes
                envelopes.append(envelope)
        return envelopes

    async def as_of(self, aggregate_id: str, moment: datetime) -> list[Envelope]:
        """The aggregate's stream as it stood at ``moment``."""
        return await self.load(aggregate_id, until=moment)

    async def version(self, aggregate_id: str) -> int:
        latest = await self._commits.find_one(
            {"aggregate_id": aggregate_id}, sort=[("sequence", -1)], projection={"last_sequence": 1}
        )
        return int(latest["last_sequence"]) if latest else 0

    async def read_all(
        self, *, after: Cursor | None = None, batch_size: int = 500
    ) -> AsyncIterator[Envelope]:
        """Every event in the store, aggregate by aggregate, each in order (for replay)."""
        position = after
        while True:
            query: Document = {}
            if position is not None:
                query = {
                    "$or": [
                        {"aggregate_id": {"$gt": position.aggregate_id}},
                        {
                            "aggregate_id": position.aggregate_id,
                            "sequence": {"$gt": position.sequence},
                        },
                    ]
                }
            batch = (
                await self._commits.find(query)
                .sort([("aggregate_id", ASCENDING), ("sequence", ASCENDING)])
                .limit(batch_size)
                .to_list()
            )
            if not batch:
                return
            for commit in batch:
                for document in commit["events"]:
                    yield _from_document(document)
            last = batch[-1]
            position = Cursor(last["aggregate_id"], last["sequence"])

    async def count(self) -> int:
        return await self._commits.count_documents({})

    async def unpublished(self, limit: int) -> list[Document]:
        """The oldest unpublished commits, each aggregate's in sequence order."""
        return (
            await self._commits.find({"published": False})
            .sort([("aggregate_id", ASCENDING), ("sequence", ASCENDING)])
            .limit(limit)
            .to_list()
        )

    async def mark_published(self, commit_ids: Sequence[str]) -> None:
        await self._commits.update_many(
            {"_id": {"$in": list(commit_ids)}}, {"$set": {"published": True}}
        )

    async def backlog(self) -> int:
        return await self._commits.count_documents({"published": False})


def _in_milliseconds(moment: datetime) -> datetime:
    """At the precision the database stores, so a stored event reads back equal."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _to_document(envelope: Envelope) -> Document:
    document = envelope.model_dump(mode="json")
    document["time"] = envelope.time
    return document


def _from_document(document: Document) -> Envelope:
    return Envelope.model_validate(document)


def envelopes_of(commit: Document) -> list[Envelope]:
    return [_from_document(document) for document in commit["events"]]
