"""A key's last-used time: written at most once an interval, yet revocation is at once
(or, for a store that trusts what it read, once that trust has run out)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from tests.support.infra import Infra
from tests.support.waiting import eventually
from ucap_gateway.keys import KeyStore
from ucap_shared.auth import Role
from ucap_shared.mongo import MongoClient

# Whole milliseconds, since MongoDB keeps no finer, so stored times compare exactly.
START = datetime(2030, 5, 17, 9, 30, tzinfo=UTC)
INTERVAL = timedelta(seconds=60)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class UpdateRecorder(CommandListener):
    """The filters of every update the client sends to the key collection, and its finds."""

    def __init__(self) -> None:
        self.filters: list[dict[str, Any]] = []
        self.finds = 0
        self.updated: list[str] = []
        """The collection of every update, in order."""

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name == "update":
            self.updated.append(event.command["update"])
        if event.command_name == "update" and event.command.get("update") == "api_key_uses":
            self.filters += [dict(update["q"]) for update in event.command["updates"]]
        if event.command_name == "find" and event.command.get("find") == "api_keys":
            self.finds += 1

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


@dataclass
class Keys:
    store: KeyStore
    clock: FakeClock
    client: MongoClient
    database: str
    updates: UpdateRecorder
    recorded: AsyncDatabase[dict[str, Any]]
    """The keys' database through the client whose commands ``updates`` records."""

    async def stored_last_used(self, key_id: str) -> datetime | None:
        """As stored once the writes under way are done (the store writes behind)."""
        await self.store.touches_written()
        key = await self.client[self.database]["api_keys"].find_one({"_id": key_id})
        assert key is not None
        use = await self.client[self.database]["api_key_uses"].find_one({"_id": key_id})
        last_used: datetime | None = use["last_used_at"] if use is not None else None
        return last_used


@pytest.fixture
async def keys(infra: Infra, mongo: MongoClient, unique: str) -> AsyncIterator[Keys]:
    updates = UpdateRecorder()
    database = f"test_key_last_used_{unique}"
    client: MongoClient = AsyncMongoClient(
        infra.mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=5000, event_listeners=[updates]
    )
    clock = FakeClock(START)
    store = KeyStore(client[database], touch_interval=INTERVAL, clock=clock)
    try:
        yield Keys(
            store=store,
            clock=clock,
            client=mongo,
            database=database,
            updates=updates,
            recorded=client[database],
        )
    finally:
        await client.close()
        await mongo.drop_database(database)


async def new_key(keys: Keys) -> tuple[str, str]:
    """A fresh key's id and the whole key, with nothing recorded of its use."""
    created = await keys.store.create("city:granada", [Role.PUBLISHER])
    assert await keys.stored_last_used(created.record.key_id) is None
    return created.record.key_id, created.secret


class TestTwoAuthenticationsWithinTheInterval:
    async def test_the_stored_time_stays_the_first_one(self, keys: Keys) -> None:
        key_id, secret = await new_key(keys)
        first = await keys.store.authenticate(secret)
        assert first is not None
        assert first.last_used_at == START
        assert await keys.stored_last_used(key_id) == START

        keys.clock.advance(INTERVAL - timedelta(seconds=1))
        second = await keys.store.authenticate(secret)

        assert second is not None
        assert second.last_used_at == START
        assert await keys.stored_last_used(key_id) == START
        listed = {record.key_id: record for record in await keys.store.list()}
        assert listed[key_id].last_used_at == START


class TestAuthenticationAfterTheInterval:
    async def test_the_new_time_is_written(self, keys: Keys) -> None:
        key_id, secret = await new_key(keys)
        assert await keys.store.authenticate(secret) is not None
        keys.clock.advance(timedelta(seconds=20))
        assert await keys.store.authenticate(secret) is not None
        assert await keys.stored_last_used(key_id) == START

        keys.clock.advance(INTERVAL)
        later = await keys.store.authenticate(secret)

        assert later is not None
        assert later.last_used_at == START + timedelta(seconds=20) + INTERVAL
        assert await keys.stored_last_used(key_id) == later.last_used_at


Write = Callable[..., Awaitable[Any]]


def writes_through(
    keys: Keys, monkeypatch: pytest.MonkeyPatch, write: Callable[..., Awaitable[Any]]
) -> None:
    """The key store's writes go through ``write``, called with the real write first."""
    collection = keys.store._uses
    real: Write = collection.update_one

    async def replaced(*args: Any, **kwargs: Any) -> Any:
        return await write(real, *args, **kwargs)

    monkeypatch.setattr(collection, "update_one", replaced)


class TestWrittenBehind:
    async def test_an_authentication_does_not_wait_for_the_write(
        self, keys: Keys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        release = asyncio.Event()

        async def held(real: Write, *args: Any, **kwargs: Any) -> Any:
            await release.wait()
            return await real(*args, **kwargs)

        key_id, secret = await new_key(keys)
        writes_through(keys, monkeypatch, held)

        record = await asyncio.wait_for(keys.store.authenticate(secret), timeout=5)

        assert record is not None
        assert record.last_used_at == START
        assert await keys.client[keys.database]["api_key_uses"].find_one({"_id": key_id}) is None
        release.set()
        assert await keys.stored_last_used(key_id) == START

    @pytest.mark.parametrize("trust_seconds", [0.0, 60.0], ids=["reading", "trusting"])
    async def test_a_failed_write_is_made_again_on_the_next_use(
        self, keys: Keys, monkeypatch: pytest.MonkeyPatch, trust_seconds: float
    ) -> None:
        # Trusting, the next use finds the key in this process, not in the database.
        keys.store = KeyStore(
            keys.recorded, touch_interval=INTERVAL, clock=keys.clock, trust_seconds=trust_seconds
        )
        database_away = True

        async def failing(real: Write, *args: Any, **kwargs: Any) -> Any:
            if database_away:
                raise ConnectionError("the database went away")
            return await real(*args, **kwargs)

        key_id, secret = await new_key(keys)
        writes_through(keys, monkeypatch, failing)
        assert await keys.store.authenticate(secret) is not None
        assert await keys.stored_last_used(key_id) is None
        database_away = False

        assert await keys.store.authenticate(secret) is not None

        assert await keys.stored_last_used(key_id) == START


class TestTheKeysOwnDocument:
    async def test_is_written_by_its_revocation_alone(self, keys: Keys) -> None:
        """FerretDB v1 writes a whole document back on an update: a last-used write on the
        key's own document, begun before a revocation and ended after it, would undo it.
        So uses write their times elsewhere."""
        key_id, secret = await new_key(keys)
        step = INTERVAL + timedelta(seconds=1)
        for _ in range(3):
            assert await keys.store.authenticate(secret) is not None
            keys.clock.advance(step)
        await keys.store.touches_written()

        assert await keys.store.revoke(key_id)

        *uses, revocation = keys.updates.updated
        assert uses  # (a write under way takes the latest time due after it: 2 or 3 writes)
        assert set(uses) == {"api_key_uses"}
        assert revocation == "api_keys"
        assert await keys.store.authenticate(secret) is None
        assert await keys.stored_last_used(key_id) == START + 2 * step


class TestRevocationWithinTheInterval:
    async def test_a_revoked_key_is_refused_on_its_next_authentication(self, keys: Keys) -> None:
        key_id, secret = await new_key(keys)
        assert await keys.store.authenticate(secret) is not None
        keys.clock.advance(timedelta(seconds=5))
        assert await keys.store.authenticate(secret) is not None
        # The second use made no write, so nothing about the key is held from it.
        assert await keys.stored_last_used(key_id) == START

        assert await keys.store.revoke(key_id)
        keys.clock.advance(timedelta(seconds=1))

        assert await keys.store.authenticate(secret) is None
        assert await keys.stored_last_used(key_id) == START


class TestWritesCounted:
    async def test_one_point_update_per_key_per_interval(self, keys: Keys) -> None:
        key_id, secret = await new_key(keys)
        other_id, other = await new_key(keys)
        for _ in range(5):
            assert await keys.store.authenticate(secret) is not None
            assert await keys.store.authenticate(other) is not None
            keys.clock.advance(timedelta(seconds=10))
        await keys.store.touches_written()
        assert keys.updates.filters == [{"_id": key_id}, {"_id": other_id}]

        keys.clock.advance(INTERVAL)
        for _ in range(3):
            assert await keys.store.authenticate(secret) is not None

        await keys.store.touches_written()
        assert keys.updates.filters == [{"_id": key_id}, {"_id": other_id}, {"_id": key_id}]


class TestTrustedKeys:
    async def test_a_key_revoked_elsewhere_is_refused_once_its_trust_has_run_out(
        self, keys: Keys
    ) -> None:
        key_id, secret = await new_key(keys)
        trusting = KeyStore(keys.recorded, trust_seconds=0.5)
        assert await trusting.authenticate(secret) is not None
        reads = keys.updates.finds

        assert await keys.store.revoke(key_id)
        within = await trusting.authenticate(secret)
        assert within is not None
        assert keys.updates.finds == reads
        wrong_secret = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
        assert await trusting.authenticate(wrong_secret) is None

        await asyncio.sleep(0.6)

        assert await trusting.authenticate(secret) is None


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestReadingAhead:
    """A key in use is read again once half its trust has passed, in the background: the
    request that finds it so is answered from what was read, without waiting."""

    TRUST = 10.0

    async def trusting(self, keys: Keys) -> tuple[KeyStore, FakeMonotonic]:
        clock = FakeMonotonic()
        return KeyStore(keys.recorded, trust_seconds=self.TRUST, monotonic=clock), clock

    async def test_a_key_past_half_its_trust_is_answered_at_once_and_read_again_behind(
        self, keys: Keys
    ) -> None:
        _, secret = await new_key(keys)
        store, clock = await self.trusting(keys)
        assert await store.authenticate(secret) is not None
        reads = keys.updates.finds

        clock.now += self.TRUST * 0.4
        assert await store.authenticate(secret) is not None
        await asyncio.sleep(0)
        assert keys.updates.finds == reads  # not yet half its trust: no read at all

        clock.now += self.TRUST * 0.2
        assert await store.authenticate(secret) is not None
        assert keys.updates.finds == reads  # answered before any read began
        await eventually(lambda: _at_least(keys, reads + 1), timeout=5)

        clock.now += self.TRUST * 0.45  # past the first read's trust, within the second's
        assert await store.authenticate(secret) is not None
        await asyncio.sleep(0)
        assert keys.updates.finds == reads + 1

    async def test_a_revocation_read_ahead_refuses_the_key_before_its_trust_runs_out(
        self, keys: Keys
    ) -> None:
        key_id, secret = await new_key(keys)
        store, clock = await self.trusting(keys)
        assert await store.authenticate(secret) is not None
        assert await keys.store.revoke(key_id)

        clock.now += self.TRUST * 0.6
        assert await store.authenticate(secret) is not None  # still trusted: read behind
        refused = await eventually(lambda: _refused(store, secret), timeout=5, interval=0.05)
        assert refused


async def _at_least(keys: Keys, finds: int) -> bool:
    return keys.updates.finds >= finds


async def _refused(store: KeyStore, secret: str) -> bool:
    return await store.authenticate(secret) is None


class TestSharedReads:
    async def test_requests_of_one_key_at_once_share_one_read(self, keys: Keys) -> None:
        _, secret = await new_key(keys)
        store = KeyStore(keys.recorded, trust_seconds=10)
        reads = keys.updates.finds

        answers = await asyncio.gather(*(store.authenticate(secret) for _ in range(50)))

        assert all(answer is not None for answer in answers)
        assert keys.updates.finds == reads + 1
