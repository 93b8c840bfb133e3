"""Views built from events, guarded by each stream's sequence and a log of revisions.

A view document records, per stream (aggregate id) that fed it, the last
sequence applied (``_applied``), and its revision (``_rev``). A duplicate event
is skipped; an event whose stream must arrive without gaps (``contiguous``: a
document that sees every event of its stream) and does not follow the last
applied one raises :class:`StreamGap`, so the caller can bring the missing
events first.

Writers race (the HTTP handler that appended, the consumer, replicas), and the
only compare-and-set every MongoDB-protocol server gives is an insert against a
unique index: FerretDB checks nothing but ``_id`` when it replaces a document.
So each change of a document is first *claimed* by inserting its next revision,
``<view>|<doc>|<rev>``, into ``view_revisions``, holding the new content: of two
writers of one revision exactly one wins, and the loser reads again. The winner
then writes the document by ``_id``. Every revision has one writer and is built
on the one before it, which its writer saw written, so the document moves
forward one revision at a time and never back. A writer claims the revision
after the document's at once; only when that claim exists does it read the
claims to see why.

A claimant that dies between its claim and its write leaves a claim that no
document shows. Once a claim is older than ``STALE_CLAIM``, the next writer
takes that revision as void and claims the one after it on the document as it
stands; the dead claimant's event was never applied, so it is applied again
when it comes again (the consumer delivers at least once). A claimant that
finds itself later than half of ``STALE_CLAIM`` after its claim does not write
(its event comes again too), and a writer that took longer than that to read
the document and its claims reads again, so no two writers ever write for one
revision. The bound assumes clocks within a few seconds of each other.

Each process remembers the documents it wrote last
(:mod:`ucap_shared.written_documents`), so its next change of one claims the
revision after it without reading it: if that claim succeeds, nobody else has
written since, and the remembered document is the one stored. A failed claim
forgets it and reads as above.
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure

from ucap_shared.written_documents import WrittenKey, written_documents

if TYPE_CHECKING:
    from ucap_shared.view_batch import ViewBatch

Document = dict[str, Any]
Projection = Callable[[Document | None], Document]
R = TypeVar("R")

APPLIED = "_applied"
REVISION = "_rev"
BOOKKEEPING = (APPLIED, REVISION)
WITHOUT_BOOKKEEPING: dict[str, Any] = {field: 0 for field in BOOKKEEPING}
"""A projection that reads a view document as its queries see it (then :func:`readable`)."""
PACKED = "_packed"
_PACKED_FIELDS: dict[str, frozenset[str]] = {}
_BATCHED: set[str] = set()
REVISIONS = "view_revisions"
STALE_CLAIM = timedelta(seconds=10)
_CLAIM_WAIT_SECONDS = 0.005
_TRUSTED_READ_SECONDS = STALE_CLAIM.total_seconds() / 4


class SingleWriter(Protocol):
    """Where views go while one writer alone builds them (``ucap_shared.view_buffer``)."""

    def apply(
        self,
        view: str,
        doc_id: str,
        *,
        stream: str,
        sequence: int,
        project: "Projection",
        contiguous: bool = False,
    ) -> "Outcome": ...

    def get(self, view: str, doc_id: str) -> Document | None: ...

    def find_in(self, view: str, field: str, values: list[Any]) -> list[Document]: ...


VIEW_BUFFER: ContextVar[SingleWriter | None] = ContextVar("view_buffer", default=None)
"""Set by a rebuild: view changes go there instead of to the database."""
VIEW_BATCH: ContextVar["ViewBatch | None"] = ContextVar("view_batch", default=None)
"""Set by a consumer around one batch of records (``ucap_shared.view_batch``)."""


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


class StreamGap(Exception):  # noqa: N818 - names the state found, not a failure
    """The view has not applied the events of ``stream`` between ``last`` and ``sequence``."""

    def __init__(self, stream: str, last: int, sequence: int) -> None:
        super().__init__(f"{stream}: got {sequence} after {last}")
        self.stream = stream
        self.last = last
        self.sequence = sequence


class ViewContentionError(RuntimeError):
    """Too many writers changed one document while this one tried."""


def check_stream_key(stream: str) -> str:
    if not stream or "." in stream or stream.startswith("$"):
        raise ValueError(f"stream id {stream!r} cannot be a field name")
    return stream


def batch_writes(view: str) -> None:
    """Let a consumer's batch fold the changes of ``view``'s documents (``view_batch``).

    Only for documents no projection reads to build another one: a change that
    waits for the end of its batch is not seen by a concurrent writer meanwhile.
    A copy of a source that a U-CAP's creation reads, while the source's own event
    reads the U-CAP, must be written at once, or each may miss the other.
    """
    _BATCHED.add(view)


def pack_fields(view: str, fields: Iterable[str]) -> None:
    """Store these fields of ``view``'s documents as one BSON blob, never queried into.

    For large nested fields rewritten whole on every change: the server stores
    and returns one binary value instead of converting every nested value (on
    FerretDB, about ten times less work for a document of 300 kB).
    """
    _PACKED_FIELDS[view] = frozenset(fields)


def packed(view: str, document: Document) -> Document:
    """``document`` as stored: its packed fields (see :func:`pack_fields`) in one blob."""
    fields = _PACKED_FIELDS.get(view)
    if not fields:
        return document
    blob = {key: value for key, value in document.items() if key in fields}
    rest = {key: value for key, value in document.items() if key not in fields}
    return {**rest, PACKED: bson.Binary(bson.encode(blob))}


def unpacked(
    document: Mapping[str, Any] | None, options: CodecOptions[Document]
) -> Document | None:
    """A stored document with its packed fields in place again (``options``: its client's)."""
    if document is None:
        return None
    if PACKED not in document:
        return dict(document)
    blob: Document = bson.decode(document[PACKED], codec_options=options)
    return {**{k: v for k, v in document.items() if k != PACKED}, **blob}


def strip_bookkeeping(document: Document | None) -> Document | None:
    if document is None:
        return None
    return {key: value for key, value in document.items() if key not in BOOKKEEPING}


def readable(
    document: Mapping[str, Any] | None, options: CodecOptions[Document]
) -> Document | None:
    """A stored view document as its readers see it: unpacked, without bookkeeping."""
    return strip_bookkeeping(unpacked(document, options))


def applied_sequence(document: Document | None, stream: str) -> int:
    """The last sequence of ``stream`` that ``document`` applied (0: none)."""
    if document is None:
        return 0
    return int(document.get(APPLIED, {}).get(stream, 0))


def _claim_id(collection: AsyncCollection[Document], doc_id: str, revision: int) -> str:
    return f"{collection.name}|{doc_id}|{revision}"


async def _base(
    collection: AsyncCollection[Document], doc_id: str, *, read_claims: bool
) -> tuple[Document | None, int] | None:
    """The document and the revision a change of it must claim next.

    None while a claim beyond the written document is fresh (its claimant is
    about to write it), or when reading took too long to trust: read again.
    Without ``read_claims``, the revision after the document's: right unless
    a claim for it exists, and then claiming it fails, and the caller reads again
    with the claims.
    """
    started = time.monotonic()
    revisions = collection.database[REVISIONS]
    current = unpacked(await collection.find_one({"_id": doc_id}), collection.codec_options)
    revision = int(current.get(REVISION, 0)) if current else 0
    while read_claims:
        claim = await revisions.find_one({"_id": _claim_id(collection, doc_id, revision + 1)})
        if claim is None:
            break
        if datetime.now(UTC) - claim["claimed_at"] < STALE_CLAIM:
            return None
        revision += 1  # void: its claimant never wrote it, and never will
    if time.monotonic() - started > _TRUSTED_READ_SECONDS:
        return None
    return current, revision + 1


async def apply_event(
    collection: AsyncCollection[Document],
    doc_id: str,
    *,
    stream: str,
    sequence: int,
    project: Projection,
    contiguous: bool = False,
) -> Outcome:
    """Apply one event of ``stream`` to the view document ``doc_id``.

    ``project`` gets the current document (without bookkeeping, or None) and
    returns the new one. With ``contiguous``, raises :class:`StreamGap` unless
    the document has applied every earlier event of ``stream``. Inside a
    consumer's batch (``ucap_shared.view_batch``) a change of a view declared
    with :func:`batch_writes` that need not be contiguous is folded there and
    written with the batch; any other change is written at once, and the batch reads the
    document back as this write left it.
    """
    check_stream_key(stream)
    buffer = VIEW_BUFFER.get()
    if buffer is not None:
        return buffer.apply(
            collection.name,
            doc_id,
            stream=stream,
            sequence=sequence,
            project=project,
            contiguous=contiguous,
        )
    batch = VIEW_BATCH.get()
    if batch is not None and collection.name in _BATCHED:
        if not contiguous:
            return await batch.apply(
                collection, doc_id, stream=stream, sequence=sequence, project=project
            )
        await batch.write_one(collection, doc_id)

    built: list[Document] = []

    def build(current: Document | None, revision: int) -> tuple[Document | None, Outcome]:
        last = applied_sequence(current, stream)
        if sequence <= last:
            return None, Outcome.DUPLICATE
        if contiguous and sequence != last + 1:
            raise StreamGap(stream, last, sequence)
        built.append(with_change(current, doc_id, revision, stream, sequence, project))
        return built[-1], Outcome.APPLIED

    outcome = await write_built(collection, doc_id, build)
    if batch is not None and outcome is Outcome.APPLIED:
        batch.note_written(collection, doc_id, built[-1])
    return outcome


def with_change(
    current: Document | None,
    doc_id: str,
    revision: int,
    stream: str,
    sequence: int,
    project: Projection,
) -> Document:
    """``current`` with one event of ``stream`` projected on it, at ``revision``."""
    applied: dict[str, int] = dict(current.get(APPLIED, {})) if current else {}
    return {
        **project(strip_bookkeeping(current)),
        "_id": doc_id,
        APPLIED: {**applied, stream: sequence},
        REVISION: revision,
    }


Built = tuple[Document | None, R]
"""The document to write (None: nothing to write) and what to answer."""


async def base_of(
    collection: AsyncCollection[Document], doc_id: str
) -> tuple[Document | None, int]:
    """The document as this process last wrote it, or as stored, and the revision to claim next."""
    deadline = time.monotonic() + 3 * STALE_CLAIM.total_seconds()
    written, key = written_documents(), (collection.database.name, collection.name, doc_id)
    remembered = written.take(key)
    if remembered is not None:
        written.keep(key, remembered)
        return _decoded(collection, remembered)
    while time.monotonic() < deadline:
        base = await _base(collection, doc_id, read_claims=False)
        if base is not None:
            return base
        await asyncio.sleep(_CLAIM_WAIT_SECONDS)
    raise ViewContentionError(f"{doc_id}: no stable revision to read")


def _decoded(collection: AsyncCollection[Document], raw: bytes) -> tuple[Document | None, int]:
    stored = bson.decode(raw, codec_options=collection.codec_options)
    return unpacked(stored, collection.codec_options), int(stored.get(REVISION, 0)) + 1


async def write_built(
    collection: AsyncCollection[Document],
    doc_id: str,
    build: Callable[[Document | None, int], Built[R]],
    *,
    first: tuple[Document | None, int] | None = None,
) -> R:
    """Build the next revision of a document on the one stored, claim it, and write it.

    ``build`` gets the current document (with its bookkeeping) and the revision
    to claim; it may be called again on a newer document after a lost claim. The
    document it builds records that revision, or a later one when it holds
    several changes (one revision each): the claim is always the one after the
    document read, so of two writers building on one document only one writes.
    ``first``: the base to try before any other (one the caller built on already).
    """
    revisions = collection.database[REVISIONS]
    written = written_documents()
    key: WrittenKey = (collection.database.name, collection.name, doc_id)
    deadline = time.monotonic() + 3 * STALE_CLAIM.total_seconds()
    contended = False
    while time.monotonic() < deadline:
        remembered = None
        if first is not None:
            base: tuple[Document | None, int] | None = first
            first = None
        elif not contended and (remembered := written.take(key)) is not None:
            base = _decoded(collection, remembered)
        else:
            base = await _base(collection, doc_id, read_claims=contended)
        if base is None:
            await asyncio.sleep(_CLAIM_WAIT_SECONDS)
            continue
        current, revision = base
        try:
            new, result = build(current, revision)
        except StreamGap:
            if remembered is None:
                raise
            contended = True  # others may have applied what this process has not seen
            continue
        if new is None:
            if remembered is not None:
                written.keep(key, remembered)
            return result
        # Encoded before the claim, so a document that cannot be stored claims nothing.
        encoded = RawBSONDocument(bson.encode(packed(collection.name, new)))
        claimed = time.monotonic()
        try:
            await revisions.insert_one(
                {"_id": _claim_id(collection, doc_id, revision), "claimed_at": datetime.now(UTC)}
            )
        except DuplicateKeyError:
            contended = True
            await asyncio.sleep(0 if remembered is not None else _CLAIM_WAIT_SECONDS)
            continue
        if time.monotonic() - claimed > STALE_CLAIM.total_seconds() / 2:
            raise ViewContentionError(f"{doc_id}: claimed revision {revision} too late to write it")
        try:
            await collection.replace_one({"_id": doc_id}, encoded, upsert=True)
        except OperationFailure:
            # Refused by the server, so never written: the revision is free again.
            await revisions.delete_one({"_id": _claim_id(collection, doc_id, revision)})
            raise
        written.keep(key, bytes(encoded.raw))
        return result
    raise ViewContentionError(f"{doc_id}: too much contention writing it")
