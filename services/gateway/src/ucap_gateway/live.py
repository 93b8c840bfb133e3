"""What wakes the kept answers, and the live feeds that follow them.

Each gateway replica reads every service's events topic itself, from the end,
with no consumer group (so every replica sees every event), and touches the
kept answers each event names. A live feed follows one kept answer: every
viewer of a U-CAP is sent the same compile, once per change.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable, Sequence
from functools import partial
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event

from ucap_gateway.feeds import FeedGate
from ucap_gateway.kept import Keeper, Snapshot
from ucap_shared.backoff import Backoff
from ucap_shared.dispatch import UnusableRecord, parse_envelope
from ucap_shared.envelope import Envelope
from ucap_shared.topics import events_topic

log = logging.getLogger(__name__)

SOURCES = ("cities", "mous", "pilots", "reporting")
LONGEST_NAME = 200
DEEPEST = 4
HEARTBEAT_SECONDS = 15.0
FRAME = "live-frame"

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def names_in(event: Envelope) -> frozenset[str]:
    """The event's subject and every short string in its data: the ids it may refer to."""
    names = {event.subject}
    _collect(event.data, names, DEEPEST)
    return frozenset(names)


def _collect(value: object, names: set[str], depth: int) -> None:
    if isinstance(value, str):
        if len(value) <= LONGEST_NAME:
            names.add(value)
    elif depth > 0 and isinstance(value, dict):
        for item in value.values():
            _collect(item, names, depth - 1)
    elif depth > 0 and isinstance(value, list):
        for item in value:
            _collect(item, names, depth - 1)


@contextlib.asynccontextmanager
async def watching_events(
    bootstrap: str, keepers: Sequence[Keeper[Any, Any]]
) -> AsyncIterator[None]:
    async def watch() -> None:
        backoff = Backoff(first=0.5, most=10.0)
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
                backoff.reset()
                reading = False
                while True:
                    batches = await consumer.getmany(timeout_ms=1000)
                    if not reading:
                        # It reads from the end: what came before, or while it was away,
                        # is in no kept answer's touches. Compile each whole once.
                        reading = True
                        for keeper in keepers:
                            keeper.touch_all()
                    for records in batches.values():
                        for record in records:
                            _touch(keepers, record.value)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep watching whatever happened
                log.warning("live feed consumer failed", extra={"error": repr(error)})
                await asyncio.sleep(backoff.next_wait())
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


def _touch(keepers: Sequence[Keeper[Any, Any]], raw: bytes | None) -> None:
    try:
        event = parse_envelope(raw)
    except UnusableRecord:
        return
    names, stream = names_in(event), stream_of(event)
    for keeper in keepers:
        keeper.touch(names, stream, event.sequence)


def stream_of(event: Envelope) -> str:
    """The event's stream as the status names it: ``pilot:<id>`` for ``ucap.pilot.*`` …"""
    return f"{event.type.split('.')[1]}:{event.subject}"


async def follow(
    keeper: Keeper[K, V],
    key: K,
    body_of: Callable[[Snapshot[V]], str],
    *,
    gate: FeedGate,
    key_id: str,
) -> AsyncGenerator[bytes, None]:
    """SSE: the kept answer now, then again each time it changes; ends once the key is revoked.

    Each change is framed once (with FastAPI's SSE encoder) and the same bytes go
    to every viewer of it. Snapshots without a value (the answer's source away)
    are not sent: the last one sent stands until there is a new one. A ``: ping``
    comment goes out after ``HEARTBEAT_SECONDS`` without a change.
    """
    with keeper.watching(key):
        snapshot = await keeper.get(key)
        sent: str | None = None
        quiet_since = time.monotonic()
        while True:
            if snapshot.value is not None and snapshot.etag != sent:
                sent = snapshot.etag
                yield snapshot.once(FRAME, partial(_frame, snapshot, body_of))
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                yield KEEPALIVE_COMMENT
                quiet_since = time.monotonic()
            snapshot = await keeper.next_change(key, snapshot.version, gate.check_seconds)
            if not await gate.still_active(key_id):
                yield format_sse_event(event="end", data_str="the API key is no longer valid")
                return


def _frame(snapshot: Snapshot[V], body_of: Callable[[Snapshot[V]], str]) -> bytes:
    return format_sse_event(
        event="status", data_str=body_of(snapshot), id=(snapshot.etag or "").strip('"')
    )
