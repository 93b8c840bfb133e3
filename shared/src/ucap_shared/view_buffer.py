"""Views built in memory and written in bulk at the end: a rebuild's single writer.

A rebuild drops the views and runs while the service is stopped (it refuses
while the consumer group has members), so it is the only writer of every view
document: nothing else reads or writes them until it is done. That makes the
revision log's claims unnecessary: each document is folded here, with the same
sequence guard and one revision per change as :func:`ucap_shared.views.apply_event`
keeps, and inserted once, in batches, so a rebuilt document equals the one the
live writers built. While :data:`ucap_shared.views.VIEW_BUFFER` holds a buffer,
``apply_event`` and the reads of projections that look at other documents go to it.
"""

import copy
from collections.abc import Callable, Iterable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.views import (
    APPLIED,
    BOOKKEEPING,
    REVISION,
    Document,
    Outcome,
    Projection,
    StreamGap,
    applied_sequence,
    packed,
    strip_bookkeeping,
)

INSERT_BATCH = 1000


def _values(value: object) -> Iterable[Any]:
    """What an equality on a field matches: the value, or each item of an array."""
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str | int | float | bool)]
    return [value] if isinstance(value, str | int | float | bool) else []


def _content(document: Document) -> Document:
    """A copy without the bookkeeping, as a query of the live view returns it."""
    return copy.deepcopy({k: v for k, v in document.items() if k not in BOOKKEEPING})


class ViewBuffer:
    def __init__(self) -> None:
        self._views: dict[str, dict[str, Document]] = {}
        self._indexes: dict[tuple[str, str], dict[Any, set[str]]] = {}

    def apply(
        self,
        view: str,
        doc_id: str,
        *,
        stream: str,
        sequence: int,
        project: Projection,
        contiguous: bool = False,
    ) -> Outcome:
        documents = self._views.setdefault(view, {})
        current = documents.get(doc_id)
        last = applied_sequence(current, stream)
        if sequence <= last:
            return Outcome.DUPLICATE
        if contiguous and sequence != last + 1:
            raise StreamGap(stream, last, sequence)
        revision = int(current.get(REVISION, 0)) + 1 if current else 1
        new = {
            **project(copy.deepcopy(strip_bookkeeping(current))),
            "_id": doc_id,
            APPLIED: {**(current or {}).get(APPLIED, {}), stream: sequence},
            REVISION: revision,
        }
        self._reindex(view, current, new)
        documents[doc_id] = new
        return Outcome.APPLIED

    def get(self, view: str, doc_id: str) -> Document | None:
        """The document without its bookkeeping, a copy the caller may change."""
        found = self._views.get(view, {}).get(doc_id)
        return _content(found) if found is not None else None

    def find_in(self, view: str, field: str, values: list[Any]) -> list[Document]:
        """Documents whose ``field`` equals, or as an array holds, one of ``values``."""
        index = self._index(view, field)
        ids = sorted({doc_id for value in values for doc_id in index.get(value, ())})
        documents = self._views.get(view, {})
        return [_content(documents[doc_id]) for doc_id in ids]

    def _index(self, view: str, field: str) -> dict[Any, set[str]]:
        """Built on the first search of ``field``, then kept up to date by every change."""
        index = self._indexes.get((view, field))
        if index is None:
            index = self._indexes[(view, field)] = {}
            for doc_id, document in self._views.get(view, {}).items():
                for value in _values(document.get(field)):
                    index.setdefault(value, set()).add(doc_id)
        return index

    def _reindex(self, view: str, old: Document | None, new: Document) -> None:
        for (indexed_view, field), index in self._indexes.items():
            if indexed_view != view:
                continue
            for value in _values(old.get(field)) if old else ():
                index.get(value, set()).discard(new["_id"])
            for value in _values(new.get(field)):
                index.setdefault(value, set()).add(new["_id"])

    def documents(self) -> int:
        return sum(len(documents) for documents in self._views.values())

    async def write(
        self, database: AsyncDatabase[Document], out: Callable[[str], None] = print
    ) -> None:
        """Insert every document, in batches; the views were dropped, so none is there yet."""
        for view, by_id in sorted(self._views.items()):
            documents = list(by_id.values())
            for start in range(0, len(documents), INSERT_BATCH):
                batch = [packed(view, d) for d in documents[start : start + INSERT_BATCH]]
                await database[view].insert_many(batch, ordered=False)
            out(f"  wrote {len(documents)} documents to {view}")
