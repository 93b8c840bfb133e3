"""The gateway's kept answers: compiled once, again on a touching event or a refresh."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.support.waiting import eventually
from ucap_gateway.feeds import FeedGate
from ucap_gateway.kept import Keeper
from ucap_gateway.live import names_in
from ucap_shared.envelope import Envelope

SETTLE = (0.05, 0.15)


async def until(check: Callable[[], bool], timeout: float = 5) -> None:
    async def probe() -> bool:
        return check()

    await eventually(probe, timeout=timeout, interval=0.01)


@dataclass
class Source:
    """What a compile reads: a value per key, and how often it was read."""

    values: dict[str, str] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    failing: Exception | None = None

    async def compile(self, key: str) -> str:
        self.reads.append(key)
        await asyncio.sleep(0.01)
        if self.failing is not None:
            raise self.failing
        return self.values.get(key, f"{key}: nothing")


class SourceAwayError(Exception):
    pass


def keeper(source: Source, *, refresh: float = 60.0, idle: float = 60.0) -> Keeper[str, str]:
    return Keeper(
        source.compile,
        etag_of=lambda value: f'"{value}"',
        subjects_of=lambda key, value: frozenset({key, *(value or "").split()}),
        refresh_seconds=refresh,
        settle_seconds=SETTLE,
        idle_seconds=idle,
        kept_errors=(SourceAwayError,),
    )


class TestCompiledOnce:
    async def test_many_readers_at_once_share_one_compile(self) -> None:
        source = Source({"granada": "v1"})
        kept = keeper(source)
        try:
            answers = await asyncio.gather(*(kept.get("granada") for _ in range(100)))
            assert {a.value for a in answers} == {"v1"}
            assert source.reads == ["granada"]
            await kept.get("granada")
            assert source.reads == ["granada"]
        finally:
            await kept.close()

    async def test_an_event_naming_another_answer_compiles_nothing(self) -> None:
        source = Source({"granada": "v1 haikou"})
        kept = keeper(source)
        try:
            await kept.get("granada")
            assert kept.touch(frozenset({"bristol"})) == 0
            await asyncio.sleep(SETTLE[-1] * 3)
            assert source.reads == ["granada"]
        finally:
            await kept.close()


class TestCompiledAgain:
    async def test_an_event_naming_a_subject_compiles_at_each_settle_point(self) -> None:
        source = Source({"granada": "v1 haikou"})
        kept = keeper(source)
        try:
            await kept.get("granada")
            source.values["granada"] = "v2 haikou"
            touched_at = time.monotonic()
            assert kept.touch(frozenset({"haikou"})) == 1

            changed = await kept.next_change("granada", 1, timeout=5)

            assert changed.value == "v2 haikou"
            assert changed.version == 2
            assert time.monotonic() - touched_at < SETTLE[0] + 1.0
            await until(lambda: len(source.reads) == 1 + len(SETTLE))
            await asyncio.sleep(SETTLE[-1])
            assert len(source.reads) == 1 + len(SETTLE)
        finally:
            await kept.close()

    async def test_the_refresh_compiles_again_without_any_event(self) -> None:
        source = Source({"granada": "v1"})
        kept = keeper(source, refresh=0.2)
        try:
            await kept.get("granada")
            source.values["granada"] = "v2"
            changed = await kept.next_change("granada", 1, timeout=5)
            assert changed.value == "v2"
        finally:
            await kept.close()

    async def test_a_compile_with_the_same_etag_wakes_no_watcher(self) -> None:
        source = Source({"granada": "v1"})
        kept = keeper(source, refresh=0.05)
        try:
            first = await kept.get("granada")
            after = await kept.next_change("granada", first.version, timeout=0.5)
            assert len(source.reads) > 2
            assert after.version == first.version
        finally:
            await kept.close()


class TestHeldEvents:
    async def test_a_touched_answer_is_compiled_until_it_holds_the_event_then_left(self) -> None:
        source = Source({"granada": "v1 haikou"})
        held = {"pilot:p1": 1}

        async def compile_(key: str) -> str:
            await source.compile(key)
            return f"{source.values[key]} applied={held['pilot:p1']}"

        kept: Keeper[str, str] = Keeper(
            compile_,
            etag_of=lambda value: f'"{value}"',
            subjects_of=lambda key, value: frozenset({key, "haikou"}),
            holds=lambda value, stream, sequence: int(value.split("applied=")[1]) >= sequence,
            refresh_seconds=60,
            settle_seconds=(0.02, 5.0),
        )
        try:
            await kept.get("granada")
            kept.touch(frozenset({"haikou"}), "pilot:p1", 2)
            await until(lambda: len(source.reads) >= 4)
            held["pilot:p1"] = 2
            changed = await kept.next_change("granada", 1, timeout=5)
            assert changed.value == "v1 haikou applied=2"
            reads = len(source.reads)
            await asyncio.sleep(0.3)
            assert len(source.reads) == reads
        finally:
            await kept.close()


@dataclass
class Compiles:
    """Which compiles ran: whole ones by key, partial ones with the kinds they were given."""

    whole: list[str] = field(default_factory=list)
    partial: list[frozenset[str]] = field(default_factory=list)
    held: int = 1

    async def compile(self, key: str) -> str:
        self.whole.append(key)
        return f"{key} haikou applied={self.held}"

    async def recompile(self, key: str, kept: str, kinds: frozenset[str]) -> str:
        self.partial.append(kinds)
        return f"{key} haikou applied={self.held}"


def partly_compiled(compiles: Compiles, *, refresh: float = 60.0) -> Keeper[str, str]:
    return Keeper(
        compiles.compile,
        recompile=compiles.recompile,
        etag_of=lambda value: f'"{value}"',
        subjects_of=lambda key, value: frozenset({key, "haikou"}),
        holds=lambda value, stream, sequence: int(value.split("applied=")[1]) >= sequence,
        refresh_seconds=refresh,
        settle_seconds=(0.02, 5.0),
    )


class TestPartialCompiles:
    async def test_an_event_compiles_again_only_what_its_kind_can_change(self) -> None:
        compiles = Compiles()
        kept = partly_compiled(compiles)
        try:
            await kept.get("granada")
            compiles.held = 2
            kept.touch(frozenset({"haikou"}), "pilot:p1", 2)
            await until(lambda: len(compiles.partial) >= 1)
            assert compiles.partial == [frozenset({"pilot"})]
            assert compiles.whole == ["granada"]
        finally:
            await kept.close()

    async def test_while_it_settles_the_same_kinds_are_compiled_again(self) -> None:
        compiles = Compiles()
        kept = partly_compiled(compiles)
        try:
            await kept.get("granada")
            kept.touch(frozenset({"haikou"}), "mou:m1", 2)
            await until(lambda: len(compiles.partial) >= 3)
            compiles.held = 2
            await kept.next_change("granada", 1, timeout=5)
            assert set(compiles.partial) == {frozenset({"mou"})}
            assert compiles.whole == ["granada"]
        finally:
            await kept.close()

    async def test_under_a_stream_of_events_it_is_still_compiled_whole_each_refresh(
        self,
    ) -> None:
        compiles = Compiles()
        kept = partly_compiled(compiles, refresh=0.3)
        try:
            await kept.get("granada")
            deadline = time.monotonic() + 1.0
            sequence = 1
            while time.monotonic() < deadline:
                sequence += 1
                compiles.held = sequence
                kept.touch(frozenset({"haikou"}), "pilot:p1", sequence)
                await asyncio.sleep(0.03)
            assert len(compiles.partial) >= 2
            assert len(compiles.whole) >= 3
        finally:
            await kept.close()


@dataclass
class Refreshes:
    """A source that says, as reporting does with its ETag, whether anything changed."""

    value: str = "granada haikou applied=1"
    whole: int = 0
    partial: list[frozenset[str]] = field(default_factory=list)
    described: int = 0

    async def compile(self, key: str) -> str:
        self.whole += 1
        return self.value

    async def recompile(self, key: str, kept: str, kinds: frozenset[str]) -> str:
        self.partial.append(kinds)
        return kept if kept == self.value and not kinds else self.value

    def etag_of(self, value: str) -> str:
        self.described += 1
        return f'"{value}"'


def refreshed(source: Refreshes, *, refresh: float, whole: float) -> Keeper[str, str]:
    return Keeper(
        source.compile,
        recompile=source.recompile,
        etag_of=source.etag_of,
        subjects_of=lambda key, value: frozenset({key, "haikou"}),
        holds=lambda value, stream, sequence: int(value.split("applied=")[1]) >= sequence,
        refresh_seconds=refresh,
        whole_seconds=whole,
        settle_seconds=(0.02, 5.0),
    )


class TestConditionalRefreshes:
    async def test_a_refresh_that_finds_nothing_changed_keeps_the_snapshot_as_it_is(
        self,
    ) -> None:
        source = Refreshes()
        kept = refreshed(source, refresh=0.05, whole=60)
        try:
            first = await kept.get("granada")
            await until(lambda: len(source.partial) >= 3)
            assert set(source.partial) == {frozenset()}
            assert source.whole == 1
            assert source.described == 1
            assert await kept.get("granada") is first
        finally:
            await kept.close()

    async def test_a_refresh_that_finds_a_change_shows_it(self) -> None:
        source = Refreshes()
        kept = refreshed(source, refresh=0.05, whole=60)
        try:
            first = await kept.get("granada")
            source.value = "granada haikou bristol applied=1"
            changed = await kept.next_change("granada", first.version, timeout=5)
            assert changed.value == source.value
            assert source.whole == 1
        finally:
            await kept.close()

    async def test_it_is_still_compiled_whole_every_whole_seconds(self) -> None:
        source = Refreshes()
        kept = refreshed(source, refresh=0.02, whole=0.2)
        try:
            await kept.get("granada")
            await until(lambda: source.whole >= 3)
            assert len(source.partial) >= source.whole
        finally:
            await kept.close()

    async def test_touching_all_compiles_each_whole_at_once(self) -> None:
        source = Refreshes()
        kept = refreshed(source, refresh=60, whole=60)
        try:
            await kept.get("granada")
            await kept.get("kunming")
            kept.touch_all()
            await until(lambda: source.whole >= 4)
            assert source.partial == []
        finally:
            await kept.close()


class TestFailures:
    async def test_a_kept_error_is_answered_until_a_compile_succeeds(self) -> None:
        source = Source({"granada": "v1"}, failing=SourceAwayError("reporting is away"))
        kept = keeper(source, refresh=0.1)
        try:
            failed = await kept.get("granada")
            assert failed.value is None
            assert isinstance(failed.error, SourceAwayError)
            source.failing = None
            recovered = await kept.next_change("granada", failed.version, timeout=5)
            assert recovered.value == "v1"
        finally:
            await kept.close()

    async def test_an_unexpected_failure_keeps_the_last_good_answer(self) -> None:
        source = Source({"granada": "v1"})
        kept = keeper(source, refresh=0.05)
        try:
            good = await kept.get("granada")
            source.failing = RuntimeError("boom")
            await until(lambda: len(source.reads) >= 3)
            now = await kept.get("granada")
            assert now.value == "v1"
            assert now.version == good.version
        finally:
            await kept.close()


class TestForgetting:
    async def test_an_answer_nobody_reads_is_dropped(self) -> None:
        source = Source({"granada": "v1"})
        kept = keeper(source, refresh=0.05, idle=0.1)
        try:
            await kept.get("granada")
            await until(lambda: len(kept) == 0)
        finally:
            await kept.close()

    async def test_a_watched_answer_is_kept(self) -> None:
        source = Source({"granada": "v1"})
        kept = keeper(source, refresh=0.05, idle=0.1)
        try:
            with kept.watching("granada"):
                await kept.get("granada")
                await asyncio.sleep(0.5)
                assert len(kept) == 1
        finally:
            await kept.close()


class TestEventNames:
    def test_the_subject_and_the_short_strings_of_the_data(self) -> None:
        event = Envelope(
            source="ucap/mous",
            type="ucap.mou.drafted.v1",
            subject="mou-1",
            sequence=1,
            actor="city:granada",
            data={"parties": [{"city_id": "granada"}, {"city_id": "haikou"}], "n": 3},
        )
        assert names_in(event) == {"mou-1", "granada", "haikou"}

    def test_long_text_is_no_name(self) -> None:
        event = Envelope(
            source="ucap/pilots",
            type="ucap.pilot.progress_reported.v1",
            subject="pilot-1",
            sequence=2,
            actor="city:granada",
            data={"summary": "x" * 1000},
        )
        assert names_in(event) == {"pilot-1"}


class TestFeedGate:
    async def test_bounds_per_key_and_in_all(self) -> None:
        async def active(key_id: str) -> bool:
            return True

        gate = FeedGate(per_key=2, total=3, is_active=active, check_seconds=1)
        gate.admit("a")
        gate.admit("a")
        with pytest.raises(Exception, match="this API key has 2 live feeds open") as refused:
            gate.admit("a")
        assert getattr(refused.value, "status_code", None) == 429
        gate.admit("b")
        with pytest.raises(Exception, match="the gateway has 3 live feeds open"):
            gate.admit("c")
        gate.release("a")
        gate.admit("c")
        assert gate.open_feeds == 3

    async def test_a_key_is_read_once_per_interval_whatever_the_feeds(self) -> None:
        reads: list[str] = []

        async def active(key_id: str) -> bool:
            reads.append(key_id)
            return False

        gate = FeedGate(per_key=10, total=10, is_active=active, check_seconds=60)
        results = [await gate.still_active("a") for _ in range(50)]
        assert results == [False] * 50
        assert reads == ["a"]

    async def test_feeds_asking_at_once_share_one_read(self) -> None:
        reads: list[str] = []

        async def active(key_id: str) -> bool:
            reads.append(key_id)
            await asyncio.sleep(0.05)
            return True

        gate = FeedGate(per_key=100, total=100, is_active=active, check_seconds=60)
        results = await asyncio.gather(*(gate.still_active("a") for _ in range(50)))
        assert results == [True] * 50
        assert reads == ["a"]

    async def test_a_feed_closing_while_it_waits_leaves_the_read_to_the_others(self) -> None:
        async def active(key_id: str) -> bool:
            await asyncio.sleep(0.05)
            return True

        gate = FeedGate(per_key=10, total=10, is_active=active, check_seconds=60)
        closing = asyncio.create_task(gate.still_active("a"))
        staying = asyncio.create_task(gate.still_active("a"))
        await asyncio.sleep(0.01)
        closing.cancel()
        assert await staying is True
