"""Views built from events, guarded by each stream's sequence.

A view document records, per stream (aggregate id) that fed it, the last
sequence applied (``_applied``). Applying an event checks that record and
writes the new document conditionally on it, in one write: a duplicate is
skipped and two writers cannot both apply. Order (no gaps) is the consumer's
concern: it sees every event of a stream, including those no view reads.
"""

from collections.abc import Callable
from enum import Enum
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]
Projection = Callable[[Document | None], Document]

APPLIED = "_applied"


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


def check_stream_key(stream: str) -> str:
    if not stream or "." in stream or stream.startswith("$"):
        raise ValueError(f"stream id {stream!r} cannot be a field name")
    return stream


def strip_bookkeeping(document: Document | None) -> Document | None:
    if document is None:
        return None
    return {key: value for key, value in document.items() if key != APPLIED}


async def apply_event(
    collection: AsyncCollection[Document],
    doc_id: str,
    *,
    stream: str,
    sequence: int,
    project: Projection,
    max_attempts: int = 20,
) -> Outcome:
    """Apply one event of ``stream`` to the view document ``doc_id``.

    ``project`` gets the current document (without bookkeeping, or None) and
    returns the new one.
    """
    check_stream_key(stream)
    for _ in range(max_attempts):
        current = await collection.find_one({"_id": doc_id})
        applied: dict[str, int] = dict(current.get(APPLIED, {})) if current else {}
        last = applied.get(stream)
        if last is not None and sequence <= last:
            return Outcome.DUPLICATE
        new = project(strip_bookkeeping(current))
        new = {**new, "_id": doc_id, APPLIED: {**applied, stream: sequence}}
        if current is None:
            try:
                await collection.insert_one(new)
            except DuplicateKeyError:
                continue
            return Outcome.APPLIED
        # The whole record must be unchanged, or a concurrent write to this
        # document (from any stream) would be overwritten.
        guard: Document = {"_id": doc_id, APPLIED: current.get(APPLIED, {})}
        result = await collection.replace_one(guard, new)
        if result.matched_count == 1:
            return Outcome.APPLIED
    raise RuntimeError(f"{doc_id}: too much contention applying {stream}#{sequence}")
