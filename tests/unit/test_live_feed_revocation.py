"""An open live feed ends within its key check interval once its key is revoked, however
quiet its U-CAP (no change needed to notice); until then it goes on. What it sends is
compiled as the gateway itself: no token is ever minted for the feed's caller."""

import asyncio
import contextlib
import time

import httpx
import pytest

from tests.support.auth import city_publisher
from tests.support.upstreams import AnsweringUpstreams
from ucap_gateway.feeds import FeedGate
from ucap_gateway.kept import Keeper, Snapshot
from ucap_gateway.kept_answers import programme_keeper
from ucap_gateway.live import follow
from ucap_shared.auth import current_principal
from ucap_shared.logs import correlation_id

CHECK_SECONDS = 0.3


class Keys:
    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.checks = 0

    async def is_active(self, key_id: str) -> bool:
        self.checks += 1
        return key_id not in self.revoked


async def compile_status(key: str) -> str:
    return f"{key}: on track"


def body_of(snapshot: Snapshot[str]) -> str:
    return snapshot.value or ""


@pytest.fixture
async def keeper() -> Keeper[str, str]:
    return Keeper(compile_status, etag_of=lambda value: f'"{value}"', refresh_seconds=60)


class TestARevokedKeysFeed:
    async def test_ends_with_an_end_event_within_seconds_of_the_revocation(
        self, keeper: Keeper[str, str]
    ) -> None:
        keys = Keys()
        gate = FeedGate(per_key=5, total=5, is_active=keys.is_active, check_seconds=CHECK_SECONDS)
        feed = follow(keeper, "granada-ucap", body_of, gate=gate, key_id="k1")
        try:
            first = await asyncio.wait_for(anext(feed), timeout=5)
            keys.revoked.add("k1")
            revoked_at = time.monotonic()
            last = await asyncio.wait_for(anext(feed), timeout=5)
            took = time.monotonic() - revoked_at
            with pytest.raises(StopAsyncIteration):
                await asyncio.wait_for(anext(feed), timeout=5)
        finally:
            await feed.aclose()
            await keeper.close()

        assert b"event: status" in first
        assert b"event: end" in last
        assert took < 2 * CHECK_SECONDS + 0.5

    async def test_a_valid_keys_feed_goes_on_and_its_key_is_checked_each_interval(
        self, keeper: Keeper[str, str]
    ) -> None:
        keys = Keys()
        gate = FeedGate(per_key=5, total=5, is_active=keys.is_active, check_seconds=CHECK_SECONDS)
        feed = follow(keeper, "granada-ucap", body_of, gate=gate, key_id="k1")
        try:
            await asyncio.wait_for(anext(feed), timeout=5)
            pending = asyncio.ensure_future(anext(feed))
            done, _ = await asyncio.wait({pending}, timeout=4 * CHECK_SECONDS)
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        finally:
            await feed.aclose()
            await keeper.close()

        assert not done, "nothing to send: the feed waits on, without an end"
        assert keys.checks >= 2


class TestAFeedsCompilesAreTheGatewaysOwn:
    async def test_no_token_is_minted_for_the_caller_who_first_asked(self) -> None:
        callers: list[tuple[str | None, str | None]] = []

        def note_caller() -> None:
            caller = current_principal.get()
            callers.append((caller.subject if caller else None, correlation_id.get()))

        upstreams = AnsweringUpstreams(
            lambda service, path: httpx.Response(200, json={"ucaps": []}), note_caller
        )
        keeper = programme_keeper(upstreams, refresh_seconds=60, capacity=4)
        principal = current_principal.set(city_publisher("granada"))
        correlation = correlation_id.set("caller-1")
        try:
            await asyncio.wait_for(keeper.get(()), timeout=5)
        finally:
            current_principal.reset(principal)
            correlation_id.reset(correlation)
            await keeper.close()

        assert callers == [("ops:gateway", None)]
