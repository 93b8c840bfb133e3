"""A lease in MongoDB built on unique inserts: one holder per epoch, renewed before its deadline.

The only compare-and-set every MongoDB-protocol server gives is an insert against a
unique index (FerretDB checks no more than ``_id`` when it updates a document), so
taking the lease is inserting the next epoch's document, ``<name>#<epoch>``: of two
contenders exactly one succeeds. Each epoch's document is written after that only by
its holder (to renew or release it), so no write of it races another.

A holder that stalls past its deadline may not yet know it lost the lease; the epoch
is its fencing token, and the work the lease guards must refuse a stale one (the relay
re-initialises its transactional Kafka producer on every new epoch, which fences the
producer of every earlier holder).

A successor takes a new epoch only once the holder's deadline has passed by its own
clock, so while the term this holder wrote runs for more than ``CLOCK_MARGIN`` by
this holder's clock (clocks agree within a few seconds), no later epoch can exist
yet and :meth:`Lease.still_held` answers without reading.
"""

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]
CLOCK_MARGIN = timedelta(seconds=3)


@dataclass(frozen=True)
class Term:
    """One epoch of the lease: who holds it and until when."""

    epoch: int
    holder: str
    expires_at: datetime


class Lease:
    def __init__(
        self, collection: AsyncCollection[Document], name: str, *, ttl_seconds: float
    ) -> None:
        self._collection = collection
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.holder = f"{uuid.uuid4()}"
        self.epoch: int | None = None
        """The epoch this holder has, or None: the fencing token of the work it guards."""
        self._expires_at: datetime | None = None

    def _term_id(self, epoch: int) -> str:
        return f"{self.name}#{epoch}"

    @property
    def _hint_id(self) -> str:
        return f"{self.name}#latest"

    async def current(self) -> Term | None:
        """The newest epoch: from a hint (which may lag), then forward by point reads."""
        hint = await self._collection.find_one({"_id": self._hint_id})
        epoch = int(hint["epoch"]) if hint else 0
        term = await self._read(epoch) if epoch else None
        while (following := await self._read(epoch + 1)) is not None:
            epoch, term = epoch + 1, following
        return term

    async def _read(self, epoch: int) -> Term | None:
        found = await self._collection.find_one({"_id": self._term_id(epoch)})
        if found is None:
            return None
        return Term(epoch, str(found["holder"]), found["expires_at"])

    async def acquire(self) -> bool:
        """Take or renew the lease; False while another holder's term runs.

        A holder renews once half its term has passed; before that it answers
        from memory, since :meth:`still_held` reads the store before any work.
        """
        now = datetime.now(UTC)
        held_for = self._expires_at - now if self._expires_at is not None else None
        if self.epoch is not None and held_for is not None and held_for > self.ttl / 2:
            return True
        term = await self.current()
        if term is not None and term.holder == self.holder and term.expires_at > now:
            return await self._renew(term, now)
        self._lose()
        if term is not None and term.expires_at > now:
            return False
        epoch = term.epoch + 1 if term is not None else 1
        try:
            await self._collection.insert_one(
                {
                    "_id": self._term_id(epoch),
                    "name": self.name,
                    "epoch": epoch,
                    "holder": self.holder,
                    "expires_at": now + self.ttl,
                    "renewed_at": now,
                }
            )
        except DuplicateKeyError:
            return False
        # The hint only saves reads: a stale one is corrected by reading forward.
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.replace_one(
                {"_id": self._hint_id}, {"epoch": epoch}, upsert=True
            )
        self.epoch, self._expires_at = epoch, now + self.ttl
        return True

    async def _renew(self, term: Term, now: datetime) -> bool:
        """Move this holder's deadline on.

        A renewal that lands within ``CLOCK_MARGIN`` of the deadline it read may
        come after a contender read that deadline as passed; that contender may
        still take the next epoch. So a late renewal is not remembered: this
        holder keeps the term only as long as the store says no later epoch
        exists, reading it before every piece of work (:meth:`still_held`).
        """
        await self._collection.update_one(
            {"_id": self._term_id(term.epoch)},
            {"$set": {"expires_at": now + self.ttl, "renewed_at": now}},
        )
        self.epoch, self._expires_at = term.epoch, now + self.ttl
        if datetime.now(UTC) >= term.expires_at - CLOCK_MARGIN:
            self.distrust()
            return await self.still_held()
        return True

    def distrust(self) -> None:
        """Forget the deadline this holder remembers: :meth:`still_held` reads the store
        until the next renewal made in time (say, after another holder fenced its work)."""
        if self.epoch is not None:
            self._expires_at = None

    def _lose(self) -> None:
        self.epoch, self._expires_at = None, None

    async def still_held(self) -> bool:
        """Whether this holder's term runs and no later epoch has been taken."""
        if self.epoch is None:
            return False
        if self._expires_at is not None and datetime.now(UTC) < self._expires_at - CLOCK_MARGIN:
            return True
        term = await self._read(self.epoch)
        held = (
            term is not None
            and term.holder == self.holder
            and term.expires_at > datetime.now(UTC)
            and await self._read(self.epoch + 1) is None
        )
        if not held:
            self._lose()
        return held

    async def release(self) -> None:
        """End this holder's term now, so another replica need not wait for the deadline."""
        if self.epoch is None:
            return
        epoch = self.epoch
        self._lose()
        await self._collection.update_one(
            {"_id": self._term_id(epoch)}, {"$set": {"expires_at": datetime.now(UTC)}}
        )
