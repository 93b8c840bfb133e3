"""The event store: each service's source of truth and its outbox.

One document per append (a *commit*) holds every event of that append, so a
write is a single atomic insert. A unique index on ``(aggregate_id,
sequence)``, where ``sequence`` is the commit's first event sequence, lets
exactly one of two concurrent writers at the same expected version win.

A commit the relay cannot publish (Kafka refuses the record itself) is *parked*
(``ucap_shared.parking``): marked ``published: "parked"`` and recorded apart, so
the relay's query for ``published: false`` skips it, while the store keeps its
aggregate's later commits back until it is retried.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.logs import correlation_id, occurred_at
from ucap_shared.metrics import EVENTS_APPENDED
from ucap_shared.mongo import update_in_commands
from ucap_shared.parking import PARKED_COMMITS, ParkedCommit, ParkedCommits
from ucap_shared.tracing import TRACE_FIELD, current_trace_context

Document = dict[str, Any]
WHOLE_BACKLOG = 64
PARKED = "parked"
"""The ``published`` value of a parked commit: neither published nor to publish now."""


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
        self.database = database
        self._commits: AsyncCollection[Document] = database["events"]
        self.source = source
        self.appended = asyncio.Event()
        """Set after every append; the relay waits on it instead of polling."""
        self.parking = ParkedCommits(database[PARKED_COMMITS])
        self._held: dict[str, int] = {}
        """Aggregate id -> sequence of its parked commit, as last read or parked here.

        Only the relay's lease holder parks, and it reads the parked commits on every
        new epoch and at least once a poll, so this lags only behind a retry (made
        elsewhere); the retried commit is then pending again, which ends the hold."""
        self._resumed: set[str] = set()
        """Parked commits found pending again: once published, their record says so."""

    @property
    def commits(self) -> AsyncCollection[Document]:
        return self._commits

    async def create_indexes(self) -> None:
        await self._commits.create_index(
            [("aggregate_id", ASCENDING), ("sequence", ASCENDING)], unique=True
        )
        await self._commits.create_index([("published", ASCENDING)])
        await self.parking.create_indexes()

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
            "_id": commit_id(aggregate_id, expected_sequence + 1),
            "aggregate_id": aggregate_id,
            "sequence": expected_sequence + 1,
            "last_sequence": envelopes[-1].sequence,
            "published": False,
            "recorded_at": datetime.now(UTC),
            "events": [_to_document(envelope) for envelope in envelopes],
        }
        if (trace_context := current_trace_context()) is not None:
            commit[TRACE_FIELD] = trace_context  # the relay's span continues the request's trace
        try:
            await self._commits.insert_one(commit)
        except DuplicateKeyError as error:
            raise ConcurrencyConflict(aggregate_id, expected_sequence) from error
        self.appended.set()
        for envelope in envelopes:
            EVENTS_APPENDED.labels(self.source, envelope.type).inc()
        return envelopes

    async def commit_at(self, aggregate_id: str, sequence: int) -> Document | None:
        """The commit whose first event has ``sequence``: a point read by ``_id``."""
        return await self._commits.find_one({"_id": commit_id(aggregate_id, sequence)})

    async def load_after(
        self, aggregate_id: str, version: int, *, within_commit: bool = False
    ) -> list[Envelope]:
        """The aggregate's events after ``version``, in order, by point reads.

        Each commit names where the next one starts (``last_sequence + 1``), so
        this reads one commit per read and a last read that finds nothing:
        what it costs depends on how many commits follow ``version``, never on
        the aggregate's history or the store's size. ``within_commit``:
        ``version`` may fall inside a commit (a view that applied part of it);
        when no commit starts after it, the one holding it is then found by the
        aggregate's id and cut (rare, and the one read that grows with history).
        """
        envelopes: list[Envelope] = []
        commit = await self.commit_at(aggregate_id, version + 1)
        if commit is None and within_commit and version > 0:
            commit = await self._commit_holding(aggregate_id, version + 1)
        while commit is not None:
            envelopes.extend(e for e in envelopes_of(commit) if e.sequence > version)
            commit = await self.commit_at(aggregate_id, int(commit["last_sequence"]) + 1)
        return envelopes

    async def _commit_holding(self, aggregate_id: str, sequence: int) -> Document | None:
        """The commit with event ``sequence`` inside it (rare: a partly projected commit)."""
        async for commit in self._commits.find({"aggregate_id": aggregate_id}):
            if commit["sequence"] <= sequence <= commit["last_sequence"]:
                return commit
        return None

    async def load(self, aggregate_id: str, *, until: datetime | None = None) -> list[Envelope]:
        """Every event of one aggregate in order (its history; commands use snapshots).

        With ``until``, the stream up to its first event after that moment: a
        prefix, so what is folded from it is a state the aggregate really had.
        """
        commits = await self._commits.find({"aggregate_id": aggregate_id}).to_list()
        commits.sort(key=lambda commit: int(commit["sequence"]))
        envelopes: list[Envelope] = []
        for commit in commits:
            for envelope in envelopes_of(commit):
                if until is not None and envelope.time > until:
                    return envelopes
                envelopes.append(envelope)
        return envelopes

    async def as_of(self, aggregate_id: str, moment: datetime) -> list[Envelope]:
        """The aggregate's stream as it stood at ``moment``."""
        return await self.load(aggregate_id, until=moment)

    async def version(self, aggregate_id: str) -> int:
        envelopes = await self.load_after(aggregate_id, 0)
        return envelopes[-1].sequence if envelopes else 0

    async def read_all(
        self, *, after: Cursor | None = None, batch_size: int = 500
    ) -> AsyncIterator[Envelope]:
        """Every event in the store, aggregate by aggregate, each in order (for replay).

        One pass for the aggregate ids, then one equality query per aggregate:
        the cost grows with the store, not with its square.
        """
        aggregate_ids = sorted(await self._commits.distinct("aggregate_id"))
        for aggregate_id in aggregate_ids:
            if after is not None and aggregate_id < after.aggregate_id:
                continue
            cursor = self._commits.find({"aggregate_id": aggregate_id}).batch_size(batch_size)
            commits = sorted(await cursor.to_list(), key=lambda commit: int(commit["sequence"]))
            for commit in commits:
                if (
                    after is not None
                    and aggregate_id == after.aggregate_id
                    and commit["sequence"] <= after.sequence
                ):
                    continue
                for document in commit["events"]:
                    yield _from_document(document)

    async def count(self) -> int:
        return await self._commits.count_documents({})

    async def unpublished(self, limit: int) -> tuple[list[Document], int]:
        """The oldest unpublished commits the relay may publish, each aggregate's in
        sequence order, and how many wait to be published (parked ones too).

        An aggregate with a parked commit is held: its later commits wait until that
        one is retried, so its order holds while every other aggregate's flow.
        An equality on ``published`` (an index serves it). A backlog of up to
        ``WHOLE_BACKLOG`` commits (the usual one) is read whole in that one query;
        a larger one is read as ids, the order taken here, and only the commits to
        publish are read whole.
        """
        few = await self._commits.find({"published": False}).limit(WHOLE_BACKLOG + 1).to_list()
        if len(few) <= WHOLE_BACKLOG:
            return self._not_held(few)[:limit], len(few) + len(self._held)
        pending = await self._commits.find(
            {"published": False}, {"_id": 1, "aggregate_id": 1, "sequence": 1}
        ).to_list()
        chosen = self._not_held(pending)[:limit]
        commits = [await self._commits.find_one({"_id": c["_id"]}) for c in chosen]
        found = [commit for commit in commits if commit is not None]
        return found, len(pending) + len(self._held)

    def _not_held(self, pending: list[Document]) -> list[Document]:
        """In publishing order, without the commits after a parked one of their aggregate."""
        chosen: list[Document] = []
        for commit in sorted(pending, key=_in_publishing_order):
            aggregate_id, sequence = str(commit["aggregate_id"]), int(commit["sequence"])
            parked_at = self._held.get(aggregate_id)
            if parked_at is not None and sequence <= parked_at:
                del self._held[aggregate_id]  # pending again: it was retried
                self._resumed.add(str(commit["_id"]))
            elif parked_at is not None:
                continue
            chosen.append(commit)
        return chosen

    async def mark_published(self, commit_ids: Sequence[str]) -> None:
        """One point update per commit (a ``$in`` filter would scan the store), sent together.

        Sent in as few commands as the server takes safely (``update_in_commands``). A
        retried commit's parked record is closed first: a crash in between leaves the
        commit pending (published again, harmlessly), never published but held.
        """
        for resumed in self._resumed.intersection(commit_ids):
            await self.parking.published(resumed)
            self._resumed.discard(resumed)
        await update_in_commands(
            self._commits,
            [UpdateOne({"_id": commit}, {"$set": {"published": True}}) for commit in commit_ids],
        )

    async def park(self, commit: Document, *, error: str, tries: int) -> None:
        """Set the commit aside with why; its aggregate's later commits wait behind it.

        Recorded first, then marked: a crash in between leaves it pending, tried again.
        """
        await self.parking.record(commit, error=error, tries=tries)
        await self._commits.update_one({"_id": commit["_id"]}, {"$set": {"published": PARKED}})
        self._held[str(commit["aggregate_id"])] = int(commit["sequence"])

    async def parked(self) -> list[ParkedCommit]:
        """The parked commits, first parked first (and what this store holds back)."""
        parked = await self.parking.parked()
        self._held = {commit.aggregate_id: commit.sequence for commit in parked}
        return parked

    async def retry_parked(self, commit_id: str, *, by: str) -> bool:
        """Make a parked commit pending again, so the relay tries it (and then its
        aggregate's later commits); False if it is not parked.

        Marked pending first, then recorded retried: a crash in between leaves it
        listed as parked, and retrying it again completes the record.
        """
        if await self.parking.state_of(commit_id) != "parked":
            return False
        await self._commits.update_one(
            {"_id": commit_id, "published": PARKED}, {"$set": {"published": False}}
        )
        await self.parking.retried(commit_id, by=by)
        self.appended.set()
        return True

    async def backlog(self) -> int:
        """Unpublished commits, parked ones too, counted here: FerretDB pushes a find's
        equality down to an index, not an aggregation's (which ``count_documents`` is)."""
        pending = await self._commits.find({"published": False}, {"_id": 1}).to_list()
        return len(pending) + len(await self.parking.parked())

    async def outbox(self) -> "Outbox":
        """What waits to be published, and since when: one indexed equality, as ``backlog``.

        A commit's ``recorded_at`` is when it was appended, not its events' time (which
        an admin may date in the past); commits appended before it was kept have none."""
        pending = await self._commits.find(
            {"published": False}, {"_id": 1, "recorded_at": 1}
        ).to_list()
        recorded = [commit["recorded_at"] for commit in pending if "recorded_at" in commit]
        return Outbox(
            pending=len(pending),
            parked=len(await self.parking.parked()),
            oldest_recorded_at=min(recorded, default=None),
        )


@dataclass(frozen=True)
class Outbox:
    pending: int
    """Commits the relay has still to publish."""
    parked: int
    """Commits set aside because Kafka refuses them (``ucap parked list``)."""
    oldest_recorded_at: datetime | None


def _in_publishing_order(commit: Document) -> tuple[str, int]:
    return str(commit["aggregate_id"]), int(commit["sequence"])


def commit_id(aggregate_id: str, sequence: int) -> str:
    return f"{aggregate_id}@{sequence}"


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
