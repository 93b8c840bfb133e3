"""Queries over the reporting views (written by the ``projections`` package)."""

import hashlib
from dataclasses import dataclass
from typing import cast

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ucap_reporting.domain import Ucap
from ucap_reporting.programme import INDEXED_FACETS
from ucap_reporting.projections import (
    MOUS_VIEW,
    PILOT_INDEX_VIEW,
    STATUS_VIEW,
    UCAPS_VIEW,
    ucap_of,
)
from ucap_shared.cursors import decode_cursor, encode_cursor
from ucap_shared.queries import page_in_id_order
from ucap_shared.views import REVISION, WITHOUT_BOOKKEEPING, Document, unpacked

Database = AsyncDatabase[Document]


async def create_indexes(database: Database) -> None:
    status = database[STATUS_VIEW]
    for field in INDEXED_FACETS:
        await status.create_index([(field, ASCENDING)])
    await database[UCAPS_VIEW].create_index([("lead_city_id", ASCENDING)])
    await database[MOUS_VIEW].create_index([("party_city_ids", ASCENDING)])
    await database[PILOT_INDEX_VIEW].create_index([("ucap_ids_seen", ASCENDING)])


async def find_ucap(database: Database, ucap_id: str) -> Ucap | None:
    return ucap_of(await database[UCAPS_VIEW].find_one({"_id": ucap_id}, WITHOUT_BOOKKEEPING))


async def status_document(database: Database, ucap_id: str) -> Document | None:
    """The status document with the sequences it applied (``_applied``), for ``applied``."""
    found = await read_status_document(database, ucap_id)
    return found.document if found is not None else None


@dataclass(frozen=True)
class StoredStatus:
    document: Document
    """As :func:`status_document` gives it."""
    stored: bytes

    @property
    def digest(self) -> str:
        """SHA-256 of the document's stored bytes: another digest, another document."""
        return hashlib.sha256(self.stored).hexdigest()


async def read_status_document(database: Database, ucap_id: str) -> StoredStatus | None:
    raw = cast(
        "AsyncCollection[RawBSONDocument]",
        database.get_collection(
            STATUS_VIEW, codec_options=CodecOptions(document_class=RawBSONDocument)
        ),
    )
    found = await raw.find_one({"_id": ucap_id}, {REVISION: 0})
    if found is None:
        return None
    decoded = unpacked(bson.decode(found.raw, database.codec_options), database.codec_options)
    assert decoded is not None
    return StoredStatus(decoded, bytes(found.raw))


@dataclass(frozen=True)
class Page:
    items: list[Ucap]
    next_cursor: str | None


async def list_ucaps(
    database: Database, *, city: str | None, limit: int, cursor: str | None
) -> Page:
    """U-CAPs by id; ``city``: only those it leads or is a counterpart in."""
    query: Document = {}
    if city:
        query["$or"] = [{"lead_city_id": city}, {"counterpart_city_ids": city}]
    documents, last = await page_in_id_order(
        database[UCAPS_VIEW],
        query,
        limit=limit,
        after=decode_cursor(cursor, 1)[0] if cursor else None,
        projection=WITHOUT_BOOKKEEPING,
    )
    items = [u for doc in documents if (u := ucap_of(doc)) is not None]
    return Page(items=items, next_cursor=encode_cursor(last) if last is not None else None)
