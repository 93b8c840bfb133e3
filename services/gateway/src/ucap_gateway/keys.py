"""API keys: one per client system, shown once, stored only as a hash.

A key reads ``ucap_<key id>_<secret>``. The id finds the record; the secret's
SHA-256 is compared in constant time. (The secret is 32 random bytes, so a
fast hash is enough: there is nothing to guess.) With ``trust_seconds``, a key
read from the store is trusted that long without reading it again: the
gateway's replicas learn of a revocation within that time. A key in use is
read again in the background once half its trust has passed, so a request
waits for the store only for a key not used within its trust time.
"""

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pydantic import BaseModel, Field
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ucap_shared.auth import Principal, Role

Document = dict[str, Any]

log = logging.getLogger(__name__)

TRUSTED_AT_MOST = 10_000
KEY_PATTERN = re.compile(r"^ucap_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
PRINCIPAL_PATTERN = re.compile(r"^(city:[a-z][a-z0-9-]{1,62}|iuc|ops:[a-z0-9][a-z0-9._-]{0,62})$")


class KeyRecord(BaseModel):
    key_id: str
    principal: str = Field(description="city:<id>, iuc, or ops:<name>")
    roles: list[Role]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def city_id(self) -> str | None:
        return self.principal.removeprefix("city:") if self.principal.startswith("city:") else None

    def as_principal(self) -> Principal:
        return Principal(subject=self.principal, city_id=self.city_id, roles=frozenset(self.roles))

    def describe(self) -> str:
        """One line for a listing: id, principal, roles, when made and last used, state."""
        state = f"revoked {self.revoked_at:%Y-%m-%d %H:%M}" if self.revoked_at else "active"
        used = f"{self.last_used_at:%Y-%m-%d %H:%M}" if self.last_used_at else "never"
        return (
            f"{self.key_id}  {self.principal:24} {','.join(self.roles):24} "
            f"created {self.created_at:%Y-%m-%d %H:%M}  last used {used}  {state}"
        )


class NewKey(BaseModel):
    record: KeyRecord
    secret: str = Field(description="The whole key: shown once, never stored")


def well_formed(presented: str) -> bool:
    """Whether ``presented`` reads like a key: only such a one costs the store a look-up."""
    return KEY_PATTERN.match(presented) is not None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class KeyStore:
    def __init__(
        self,
        database: AsyncDatabase[dict[str, Any]],
        *,
        touch_interval: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = _utc_now,
        trust_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys: AsyncCollection[dict[str, Any]] = database["api_keys"]
        # Last-used times live apart from the keys: FerretDB v1 writes a whole document
        # back on every update, so a last-used write racing a revocation on the key's own
        # document could undo the revocation.
        self._uses: AsyncCollection[dict[str, Any]] = database["api_key_uses"]
        self._touch_interval = touch_interval
        self._clock = clock
        self._trust_seconds = trust_seconds
        self._monotonic = monotonic
        self._trusted: dict[str, _Trusted] = {}
        self._reading_ahead: dict[str, asyncio.Task[None]] = {}
        self._reads: dict[str, tuple[float, asyncio.Task[Document | None]]] = {}
        self._touched: dict[str, datetime] = {}
        self._touching: dict[str, asyncio.Task[None]] = {}
        self._due_uses: dict[str, datetime] = {}

    async def create_indexes(self) -> None:
        await self._keys.create_index([("principal", ASCENDING)])

    async def create(self, principal: str, roles: list[Role]) -> NewKey:
        if not PRINCIPAL_PATTERN.match(principal):
            raise ValueError(f"{principal!r} is not city:<id>, iuc or ops:<name>")
        if not roles:
            raise ValueError("a key needs at least one role")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = KeyRecord(
            key_id=key_id,
            principal=principal,
            roles=sorted(set(roles)),
            created_at=self._clock(),
        )
        await self._keys.insert_one(
            {"_id": key_id, "hash": _hash(secret), **record.model_dump(exclude={"key_id"})}
        )
        return NewKey(record=record, secret=f"ucap_{key_id}_{secret}")

    async def authenticate(self, presented: str) -> KeyRecord | None:
        """The record of a valid, unrevoked key; None for anything else."""
        match = KEY_PATTERN.match(presented)
        if match is None:
            return None
        key_id, secret = match.groups()
        hashed = _hash(secret)
        trusted = self._trusted.get(key_id)
        age = self._monotonic() - trusted.read_at if trusted is not None else float("inf")
        if trusted is not None and age < self._trust_seconds:
            if not hmac.compare_digest(trusted.hash, hashed):
                return None
            if age >= self._trust_seconds / 2:
                self._read_ahead(key_id, hashed)
            record = trusted.record
        else:
            found = await self._read(key_id, hashed)
            if found is None:
                return None
            record = found.record
        return self._noted_use(key_id, record)

    def _noted_use(self, key_id: str, record: KeyRecord) -> KeyRecord:
        """``record`` as used now: its last-used time written behind, once an interval.

        A write per request would cost the database as much as the request itself;
        a last-used time up to a minute behind is as useful to whoever reads it. The
        request does not wait for the write, and this process writes a key's time at
        most once an interval, whatever the requests of the key that come at once read.
        """
        now = self._clock()
        last_used = max(
            (
                moment
                for moment in (
                    _as_utc(record.last_used_at) if record.last_used_at is not None else None,
                    self._touched.get(key_id),
                )
                if moment is not None
            ),
            default=None,
        )
        if last_used is not None and last_used >= now - self._touch_interval:
            return record.model_copy(update={"last_used_at": last_used})
        if len(self._touched) >= TRUSTED_AT_MOST:
            self._touched.clear()
        self._touched[key_id] = now
        self._touch(key_id, now)
        return record.model_copy(update={"last_used_at": now})

    def _touch(self, key_id: str, now: datetime) -> None:
        """Write ``now`` as the key's last use; a write under way writes it after its own."""
        self._due_uses[key_id] = now
        if key_id in self._touching:
            return

        async def write() -> None:
            try:
                while (moment := self._due_uses.pop(key_id, None)) is not None:
                    await self._write_use(key_id, moment)
            except Exception as error:  # noqa: BLE001 - the next interval's use writes it
                self._touched.pop(key_id, None)
                self._due_uses.pop(key_id, None)
                log.warning(
                    "writing an API key's last-used time failed",
                    extra={"key_id": key_id, "error": repr(error)},
                )
            finally:
                self._touching.pop(key_id, None)

        self._touching[key_id] = asyncio.create_task(write(), name=f"touch key {key_id}")

    async def _write_use(self, key_id: str, now: datetime) -> None:
        try:
            await self._uses.update_one(
                {"_id": key_id}, {"$set": {"last_used_at": now}}, upsert=True
            )
        except DuplicateKeyError:  # another replica's first write of it came first
            await self._uses.update_one({"_id": key_id}, {"$set": {"last_used_at": now}})

    async def touches_written(self) -> None:
        """Wait for the last-used times being written (at shutdown, and in tests)."""
        while self._touching:
            await asyncio.gather(*self._touching.values(), return_exceptions=True)

    def known(self, presented: str) -> bool:
        """Whether ``presented`` names a key this process has read as valid (and not seen
        revoked since): worth a look-up even from a client address that failed too often."""
        match = KEY_PATTERN.match(presented)
        return match is not None and match.group(1) in self._trusted

    async def _read(self, key_id: str, hashed: str) -> "_Trusted | None":
        """The key as stored, now trusted; None if gone or revoked (then no longer trusted),
        or if its hash is not ``hashed``."""
        read_at, reading = self._shared_read(key_id)
        # Shielded: a request that goes away must not cancel the others' read.
        found = await asyncio.shield(reading)
        if found is None or found.get("revoked_at") is not None:
            self._trusted.pop(key_id, None)
            return None
        if not hmac.compare_digest(found["hash"], hashed):
            return None
        trusted = _Trusted(found["hash"], _record(found), read_at)
        if self._trust_seconds > 0:
            if len(self._trusted) >= TRUSTED_AT_MOST:
                self._trusted.clear()
            self._trusted[key_id] = trusted
        return trusted

    def _shared_read(self, key_id: str) -> tuple[float, "asyncio.Task[Document | None]"]:
        """The read of ``key_id`` under way (when it began, and it), or a new one: the
        requests of one key that come at once (a thousand feeds reconnecting) share it."""
        under_way = self._reads.get(key_id)
        if under_way is not None:
            return under_way
        reading = asyncio.create_task(self._keys.find_one({"_id": key_id}))
        begun = self._reads[key_id] = (self._monotonic(), reading)
        reading.add_done_callback(partial(self._read_done, key_id))
        return begun

    def _read_done(self, key_id: str, reading: "asyncio.Task[Document | None]") -> None:
        under_way = self._reads.get(key_id)
        if under_way is not None and under_way[1] is reading:
            del self._reads[key_id]
        if not reading.cancelled():
            reading.exception()  # seen here, whether or not a request still waits for it

    def _read_ahead(self, key_id: str, hashed: str) -> None:
        """Read ``key_id`` again in a task of its own, unless a read of it is under way."""
        if key_id in self._reading_ahead:
            return

        async def read() -> None:
            try:
                await self._read(key_id, hashed)
            except Exception as error:  # noqa: BLE001 - the next request past the trust reads
                log.warning("reading an API key ahead failed", extra={"error": repr(error)})
            finally:
                self._reading_ahead.pop(key_id, None)

        self._reading_ahead[key_id] = asyncio.create_task(read(), name=f"read key {key_id}")

    async def is_active(self, key_id: str) -> bool:
        """Whether the key exists and is not revoked."""
        found = await self._keys.find_one({"_id": key_id}, {"revoked_at": 1})
        return found is not None and found.get("revoked_at") is None

    async def list(self) -> list[KeyRecord]:
        """Every key, with the last-used time its replicas wrote (a minute behind at most)."""
        used = {doc["_id"]: doc["last_used_at"] async for doc in self._uses.find({})}
        records = []
        async for doc in self._keys.find({}).sort("created_at", ASCENDING):
            record = _record(doc)
            if doc["_id"] in used:
                record = record.model_copy(update={"last_used_at": used[doc["_id"]]})
            records.append(record)
        return records

    async def revoke(self, key_id: str) -> bool:
        self._trusted.pop(key_id, None)
        reading = self._reading_ahead.pop(key_id, None)
        if reading is not None:  # a read begun before the revocation must not trust it again
            reading.cancel()
        result = await self._keys.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": self._clock()}}
        )
        return result.matched_count == 1


@dataclass(frozen=True)
class _Trusted:
    hash: str
    record: KeyRecord
    read_at: float


def _as_utc(moment: datetime) -> datetime:
    # A client opened without tz_aware hands back naive UTC times, which cannot be
    # compared with the clock's aware ones.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _record(document: dict[str, Any]) -> KeyRecord:
    return KeyRecord.model_validate({**document, "key_id": document["_id"]})
