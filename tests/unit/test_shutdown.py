"""A part that does not stop is given up after its time: a shutdown never hangs on it."""

import asyncio
import logging
import time

import pytest

from ucap_shared.shutdown import stopped


class TestStopped:
    async def test_a_part_that_stops_is_awaited(self) -> None:
        done: list[str] = []

        async def stop() -> None:
            await asyncio.sleep(0.01)
            done.append("relay")

        assert await stopped("relay", stop, seconds=1) is True
        assert done == ["relay"]

    async def test_a_part_that_never_stops_is_left_after_its_time_and_said(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        async def stop() -> None:
            await asyncio.Event().wait()

        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="ucap_shared.shutdown"):
            assert await stopped("consumer", stop, seconds=0.1) is False

        assert time.monotonic() - started < 5
        said = [record for record in caplog.records if record.name == "ucap_shared.shutdown"]
        assert [record.part for record in said] == ["consumer"]  # type: ignore[attr-defined]

    async def test_a_part_that_swallows_its_cancellation_is_left_all_the_same(self) -> None:
        released = asyncio.Event()

        async def stop() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await released.wait()  # goes on as if it had not been cancelled

        started = time.monotonic()
        assert await stopped("relay", stop, seconds=0.1) is False
        assert time.monotonic() - started < 5
        released.set()
