"""A part that does not stop is given up after its time: a shutdown never hangs on it."""

import asyncio
import logging
import time

import pytest

from ucap_shared.shutdown import cancelled, stopped


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


async def a_loop_that_loses_one_cancellation(cancellations: list[int]) -> None:
    """Swallows its first cancellation, as a library wait may, and runs on."""
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancellations.append(1)
            if len(cancellations) > 1:
                raise


class TestCancelled:
    async def test_a_task_that_loses_a_cancellation_is_cancelled_again_until_it_ends(
        self,
    ) -> None:
        cancellations: list[int] = []
        task = asyncio.create_task(a_loop_that_loses_one_cancellation(cancellations))
        await asyncio.sleep(0)

        async with asyncio.timeout(10):
            await cancelled(task)

        assert task.cancelled()
        assert len(cancellations) == 2

    async def test_what_the_task_raised_on_the_way_out_is_raised(self) -> None:
        async def fails_when_cancelled() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                raise RuntimeError("closing failed") from None

        task = asyncio.create_task(fails_when_cancelled())
        await asyncio.sleep(0)

        with pytest.raises(RuntimeError, match="closing failed"):
            await cancelled(task)

    async def test_a_finished_task_is_left_as_it_is(self) -> None:
        async def done() -> None:
            return None

        task = asyncio.create_task(done())
        await task

        await cancelled(task)

        assert not task.cancelled()
