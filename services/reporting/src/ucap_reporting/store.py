"""Where the projections keep their documents: MongoDB, or memory for ``as_of``.

The projections (the ``projections`` package) only ever get a document by id, find
documents whose field holds one of some values, and apply an event to one
document with the sequence guard of ``ucap_shared.views.apply_event``. Both
stores do exactly that, so the same projection code builds the live views in
MongoDB and, for a status "as it stood on a date", a throwaway copy in memory.
"""

from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.view_batch import matches
from ucap_shared.view_buffer import ViewBuffer
from ucap_shared.views import (
    VIEW_BATCH,
    VIEW_BUFFER,
    WITHOUT_BOOKKEEPING,
    Document,
    Outcome,
    Projection,
    apply_event,
    readable,
    strip_bookkeeping,
)


class ViewStore(Protocol):
    async def get(self, view: str, doc_id: str) -> Document | None:
        """The document without its bookkeeping, or None."""
        ...

    async def present(self, view: str, doc_id: str) -> bool:
        """Whether the document exists, for a view whose documents are never removed."""
        ...

    async def find_in(self, view: str, field: str, values: list[Any]) -> list[Document]:
        """Documents whose ``field`` equals, or as an array holds, one of ``values``."""
        ...

    async def apply(
        self,
        view: str,
        doc_id: str,
        *,
        stream: str,
        sequence: int,
        project: Projection,
        contiguous: bool = False,
    ) -> Outcome: ...


class MongoViews:
    """The live views; during a rebuild, the buffer it builds them in (``VIEW_BUFFER``)."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.database = database

    async def get(self, view: str, doc_id: str) -> Document | None:
        if (buffer := VIEW_BUFFER.get()) is not None:
            return buffer.get(view, doc_id)
        if (batch := VIEW_BATCH.get()) is not None:
            held, document = batch.get(self.database[view], doc_id)
            if held:
                return strip_bookkeeping(document)
        found = await self.database[view].find_one({"_id": doc_id})
        return readable(found, self.database.codec_options)

    async def present(self, view: str, doc_id: str) -> bool:
        """Within a consumer batch, a document found once is not read again: every event of
        a batch of pilot events asks whether the pilot's U-CAPs exist, and they stay."""
        batch = VIEW_BATCH.get()
        if batch is None or VIEW_BUFFER.get() is not None:
            return await self.get(view, doc_id) is not None
        key = batch.key(self.database[view], doc_id)
        if key in batch.lasting:
            return True
        held, document = batch.get(self.database[view], doc_id)
        found = document is not None if held else await self._exists(view, doc_id)
        if found:
            batch.lasting.add(key)
        return found

    async def _exists(self, view: str, doc_id: str) -> bool:
        return await self.database[view].find_one({"_id": doc_id}, {"_id": 1}) is not None

    async def find_in(self, view: str, field: str, values: list[Any]) -> list[Document]:
        """One equality query per value (an index serves each; ``$in`` would scan)."""
        if (buffer := VIEW_BUFFER.get()) is not None:
            return buffer.find_in(view, field, values)
        found: dict[Any, Document] = {}
        for value in values:
            async for document in self.database[view].find({field: value}, WITHOUT_BOOKKEEPING):
                if document["_id"] not in found:
                    found[document["_id"]] = readable(document, self.database.codec_options) or {}
        if (batch := VIEW_BATCH.get()) is not None:
            for doc_id, held in batch.held_in(self.database[view]).items():
                found.pop(doc_id, None)
                if matches(held, field, values):
                    found[doc_id] = strip_bookkeeping(held) or {}
        return list(found.values())

    async def apply(
        self,
        view: str,
        doc_id: str,
        *,
        stream: str,
        sequence: int,
        project: Projection,
        contiguous: bool = False,
    ) -> Outcome:
        return await apply_event(
            self.database[view],
            doc_id,
            stream=stream,
            sequence=sequence,
            project=project,
            contiguous=contiguous,
        )


class MemoryViews:
    """The same operations over dicts: the rebuild's buffer, with the same sequence guard."""

    def __init__(self) -> None:
        self._buffer = ViewBuffer()

    async def get(self, view: str, doc_id: str) -> Document | None:
        return self._buffer.get(view, doc_id)

    async def present(self, view: str, doc_id: str) -> bool:
        return self._buffer.get(view, doc_id) is not None

    async def find_in(self, view: str, field: str, values: list[Any]) -> list[Document]:
        return self._buffer.find_in(view, field, values)

    async def apply(
        self,
        view: str,
        doc_id: str,
        *,
        stream: str,
        sequence: int,
        project: Projection,
        contiguous: bool = False,
    ) -> Outcome:
        return self._buffer.apply(
            view, doc_id, stream=stream, sequence=sequence, project=project, contiguous=contiguous
        )
