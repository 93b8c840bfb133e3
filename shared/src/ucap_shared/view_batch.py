"""A consumer batch's view changes, folded per document in memory and written once each.

While a consumer applies one batch of records, ``apply_event`` hands every change
of a view declared with ``batch_writes`` (documents no projection reads to build
another) that need not be contiguous to the batch (``VIEW_BATCH``): the document is read
once (or taken from what this process wrote last), each event is applied to it
in memory with the same sequence guard, and at the end of the batch each changed
document is written once, claimed like any other change: the claim is the
revision after the one read, and the document counts one revision per event it
applied (as a rebuild counts them), so the next writer claims the one after that. A lost claim means
another writer changed the document meanwhile: the batch's changes are applied
again, in order, on the document as it now stands (those it already has are
duplicates). Projections that read other documents see the batch's (``get``,
``matching``), so a batch reads what it wrote.

The batch is written before the stream positions that its events moved, and
those before the consumer commits the offsets past them, so a crash in between
only delivers the batch again.

The consumer applies a batch's partitions side by side: one lock orders the
batch's own steps (taking a change, writing), so a document is read into the
batch once and no change is taken while the batch is being written.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opentelemetry.trace import SpanContext
from pymongo.asynchronous.collection import AsyncCollection

from ucap_shared.views import (
    Document,
    Outcome,
    Projection,
    applied_sequence,
    base_of,
    with_change,
    write_built,
)
from ucap_shared.written_documents import WrittenKey

T = TypeVar("T")


@dataclass(frozen=True)
class _Change:
    stream: str
    sequence: int
    project: Projection


@dataclass
class _Pending:
    collection: AsyncCollection[Document]
    doc_id: str
    base: Document | None
    revision: int
    folded: Document | None
    changes: list[_Change] = field(default_factory=list)

    def fold_on(self, current: Document | None, revision: int) -> tuple[Document | None, None]:
        """The batch's changes applied in order to ``current`` (None: it had them all)."""
        if current is self.base and revision == self.revision:
            return self.folded, None
        document, applied = current, 0
        for change in self.changes:
            if change.sequence > applied_sequence(document, change.stream):
                document = with_change(
                    document,
                    self.doc_id,
                    revision + applied,
                    change.stream,
                    change.sequence,
                    change.project,
                )
                applied += 1
        return (document if applied else None), None


class ViewBatch:
    def __init__(self) -> None:
        self._pending: dict[WrittenKey, _Pending] = {}
        self.lasting: set[WrittenKey] = set()
        """Documents found to exist that never cease to (``MongoViews.present``): read once
        per batch, not once per event."""
        self._read: dict[tuple[str, ...], asyncio.Future[Any]] = {}
        self._written: dict[WrittenKey, Document] = {}
        self.traced: list[SpanContext] = []
        """The spans of the batch's traced records, which its writes' span links."""
        self._turns = asyncio.Lock()

    async def read_once(self, key: tuple[str, ...], read: Callable[[], Awaitable[T]]) -> T:
        """What ``read`` finds, read once per batch however many records ask, side by side
        too: for what every record of the batch was in Kafka before, and would find the
        same (webhook subscriptions)."""
        found = self._read.get(key)
        if found is None:
            found = self._read[key] = asyncio.ensure_future(read())
        result: T = await found
        return result

    @staticmethod
    def key(collection: AsyncCollection[Document], doc_id: str) -> WrittenKey:
        return (collection.database.name, collection.name, doc_id)

    async def apply(
        self,
        collection: AsyncCollection[Document],
        doc_id: str,
        *,
        stream: str,
        sequence: int,
        project: Projection,
    ) -> Outcome:
        key = self.key(collection, doc_id)
        async with self._turns:
            pending = self._pending.get(key)
            if pending is None:
                base, revision = await base_of(collection, doc_id)
                pending = self._pending[key] = _Pending(collection, doc_id, base, revision, base)
            if sequence <= applied_sequence(pending.folded, stream):
                return Outcome.DUPLICATE
            revision = pending.revision + len(pending.changes)
            pending.folded = with_change(
                pending.folded, doc_id, revision, stream, sequence, project
            )
            pending.changes.append(_Change(stream, sequence, project))
            return Outcome.APPLIED

    def note_written(
        self, collection: AsyncCollection[Document], doc_id: str, document: Document
    ) -> None:
        """A document one of the batch's records wrote at once (not folded here): the batch
        reads it back from here, as its own write left it."""
        self._written[self.key(collection, doc_id)] = document

    def get(
        self, collection: AsyncCollection[Document], doc_id: str
    ) -> tuple[bool, Document | None]:
        """Whether the batch holds the document, and the document as it holds it: folded,
        or as the batch wrote it."""
        key = self.key(collection, doc_id)
        pending = self._pending.get(key)
        if pending is not None:
            return True, pending.folded
        written = self._written.get(key)
        return (written is not None, written)

    def held_in(self, collection: AsyncCollection[Document]) -> dict[str, Document | None]:
        """The documents of ``collection`` the batch holds, by id, as it holds them."""
        name = (collection.database.name, collection.name)
        return {key[2]: p.folded for key, p in self._pending.items() if key[:2] == name}

    async def write_one(self, collection: AsyncCollection[Document], doc_id: str) -> None:
        async with self._turns:
            pending = self._pending.pop(self.key(collection, doc_id), None)
            if pending is not None:
                await _write(pending)

    async def write(self) -> None:
        """Every changed document, one revision each; what is written leaves the batch."""
        async with self._turns:
            for key in list(self._pending):
                await _write(self._pending[key])
                del self._pending[key]

    def __len__(self) -> int:
        return len(self._pending)


async def _write(pending: _Pending) -> None:
    if not pending.changes:
        return
    build: Callable[[Document | None, int], tuple[Document | None, None]] = pending.fold_on
    await write_built(
        pending.collection, pending.doc_id, build, first=(pending.base, pending.revision)
    )


def matches(document: Document | None, field: str, values: list[Any]) -> bool:
    """Whether an equality on ``field`` with one of ``values`` finds ``document``."""
    if document is None:
        return False
    held = document.get(field)
    items = held if isinstance(held, list) else [held]
    return any(value in items for value in values)
