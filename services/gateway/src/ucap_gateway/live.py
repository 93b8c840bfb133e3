"""Server-sent events for a U-CAP's status, woken by the domain events on Kafka.

Each gateway replica reads every service's events topic itself, from the end,
with no consumer group (so every replica sees every event). An event wakes the
open streams; each stream compiles its U-CAP's status again and pushes it when
its ETag changed. The views behind the status apply the same event a moment
later, so a wake is followed by a few re-checks.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiokafka import AIOKafkaConsumer

from ucap_shared.topics import events_topic

log = logging.getLogger(__name__)

SOURCES = ("cities", "mous", "pilots", "reporting")
RECHECK_SECONDS = (0.2, 0.5, 1.0, 2.0, 4.0)
HEARTBEAT_SECONDS = 15.0


class ChangeSignal:
    """A counter that event batches bump, and streams wait on."""

    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Condition()

    async def bump(self) -> None:
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    async def wait_past(self, version: int, timeout: float) -> int:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version > version), timeout
                )
            return self.version


@contextlib.asynccontextmanager
async def watching_events(bootstrap: str, signal: ChangeSignal) -> AsyncIterator[None]:
    async def watch() -> None:
        backoff = 0.5
        while True:
            consumer = AIOKafkaConsumer(
                *(events_topic(source) for source in SOURCES),
                bootstrap_servers=bootstrap,
                auto_offset_reset="latest",
                enable_auto_commit=False,
                isolation_level="read_committed",
            )
            try:
                await consumer.start()
                backoff = 0.5
                while True:
                    batches = await consumer.getmany(timeout_ms=1000)
                    if batches:
                        await signal.bump()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep watching whatever happened
                log.warning("live feed consumer failed", extra={"error": repr(error)})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    task = asyncio.create_task(watch(), name="live-feed")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def status_stream(
    signal: ChangeSignal,
    current: Callable[[], Awaitable[tuple[str, str]]],
    *,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """SSE lines: the status now, then again each time its ETag changes.

    ``current`` returns (etag, JSON text) of the status.
    """
    etag, body = await current()
    yield _event("status", body, etag)
    version = signal.version
    while not await disconnected():
        seen = await signal.wait_past(version, HEARTBEAT_SECONDS)
        if seen == version:
            yield ": heartbeat\n\n"
            continue
        version = seen
        for delay in RECHECK_SECONDS:
            await asyncio.sleep(delay)
            new_etag, new_body = await current()
            if new_etag != etag:
                etag = new_etag
                yield _event("status", new_body, etag)
                break


def _event(name: str, data: str, event_id: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\nid: {event_id.strip(chr(34))}\n{lines}\n"
