"""The consumer runner: topic records to view writes, at least once, in order.

Offsets are committed only after a record's view write (or its dead-lettering).
A record that cannot be applied after bounded retries goes to the dead-letter
topic with where it came from and why; the partition keeps moving. An event
that arrives after a gap in its stream is held in the ``held_events``
collection and applied as soon as the missing event has been.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.backoff import Backoff
from ucap_shared.dead_lettering import Origin, dead_letter
from ucap_shared.dispatch import (
    Call,
    Handlers,
    Result,
    UnusableRecord,
    parse_envelope,
    resolve,
)
from ucap_shared.envelope import Envelope
from ucap_shared.handler_retries import RetryPolicy, call_with_retries
from ucap_shared.held_events import HeldEvents
from ucap_shared.logs import correlation_id
from ucap_shared.metrics import CONSUMER_LAG, EVENTS_CONSUMED
from ucap_shared.positions import WHOLE_TOPIC, StreamPositions
from ucap_shared.shutdown import COMMIT_ON_STOP_SECONDS
from ucap_shared.topics import TopicSpec, ensure_topics
from ucap_shared.tracing import processing, views_written
from ucap_shared.view_batch import ViewBatch
from ucap_shared.views import VIEW_BATCH

log = logging.getLogger(__name__)

MAX_BATCH = 500
"""The most records applied as one batch (their view changes folded, one commit)."""
LINGER_SECONDS = 0.02
"""How long the consumer waits for more records after a fetch that brought a few: a
batch's view writes are paid once for all of it."""
COMMIT_EVERY_SECONDS = 0.5
"""How long applied records wait, at most, before their streams' positions are written
and their offsets committed, while records keep coming. A stream that moved several
times meanwhile costs one write, and a crash only delivers that much again (the views
and positions skip what they applied)."""
QUIET_SECONDS = 0.05
"""A fetch that brings nothing for this long after applied records commits them at once:
what a quiet consumer applied is committed within it, not half a second later."""
IDLE_FETCH_SECONDS = 1.0
Fetched = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


class TopicFreshness(BaseModel):
    """How current a consumer's views are with one topic."""

    topic: str
    lag: int | None = None
    last_event_time: datetime | None = None
    last_applied_at: datetime | None = None
    held_events: int = 0


class ConsumerRunner:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group: str,
        handlers: Sequence[Handlers],
        database: AsyncDatabase[dict[str, Any]],
        dead_letter_topic: str,
        retry: RetryPolicy | None = None,
        topics_to_create: Sequence[TopicSpec] = (),
        linger_seconds: float = LINGER_SECONDS,
        commit_every_seconds: float = COMMIT_EVERY_SECONDS,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        self.group = group
        self._linger = linger_seconds
        self._commit_every = commit_every_seconds
        self._quiet = quiet_seconds
        self._commit_due = 0.0
        self.dead_letter_topic = dead_letter_topic
        self._bootstrap = bootstrap_servers
        self._handlers = {h.topic: h for h in handlers}
        self._held = HeldEvents(database["held_events"], group)
        self._positions = StreamPositions(database["stream_positions"], group)
        self._retry = retry or RetryPolicy()
        self._topics_to_create = list(topics_to_create)
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None
        self._processed: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self.freshness = {topic: TopicFreshness(topic=topic) for topic in self._handlers}
        self.last_error: str | None = None
        # What this member read or wrote itself, while it owns the partitions: saves reads.
        self._positions_known: dict[tuple[str, str], int] = {}
        # Moved by applied events, written before the offsets past them are committed.
        self._positions_moved: dict[tuple[str, str], tuple[int, datetime]] = {}
        self._held_uncounted: set[str] = set(self._handlers)
        self.handling = asyncio.Lock()
        """Held while a fetched batch is applied and committed. aiokafka rebalances in a
        task of its own, so the rebalance listener takes it too: a rebalance never drops
        the positions a batch has moved while that batch is still being applied."""

    # --- lifecycle ---------------------------------------------------------

    @property
    def topics(self) -> list[str]:
        return list(self._handlers)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.group}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # As it ends, the task commits what it processed, within COMMIT_ON_STOP_SECONDS;
            # a client call that holds on past that does not hold the stop: closing ends it.
            await asyncio.wait({self._task}, timeout=COMMIT_ON_STOP_SECONDS + 1)
        await self._close()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def check(self) -> None:
        if not self.running:
            raise RuntimeError(f"consumer {self.group} is not running")

    async def create_indexes(self) -> None:
        await self._held.create_indexes()

    # --- the loop ----------------------------------------------------------

    async def _run(self) -> None:
        backoff = Backoff(first=0.5, most=10.0)
        while True:
            try:
                await self._open()
                assert self._consumer is not None
                while True:
                    fetched = await self._fetched()
                    async with self.handling:
                        # Partitions moved away while it lingered go to their new owner.
                        assigned = self._consumer.assignment()
                        batches = {tp: rs for tp, rs in fetched.items() if tp in assigned}
                        if batches:
                            await self.handle_batch(
                                [record for records in batches.values() for record in records]
                            )
                            if not self._processed:
                                self._commit_due = time.monotonic() + self._commit_every
                            for partition, records in batches.items():
                                self._processed[partition] = records[-1].offset + 1
                        if self._processed and (not batches or self._commit_wait() == 0):
                            await self.commit_processed(list(self._processed))
                        await self._commit_past_markers()
                    await self._update_lag()
                    self.last_error = None
                    backoff.reset()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):  # a broker that never answers: TimeoutError
                    async with asyncio.timeout(COMMIT_ON_STOP_SECONDS):
                        await self.commit_processed(list(self._processed))
                raise
            except Exception as error:  # noqa: BLE001 - restart the consumer, whatever failed
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning(
                    "consumer failed; restarting",
                    extra={"group": self.group, "error": self.last_error},
                )
                await self._close()
                await asyncio.sleep(backoff.next_wait())

    async def _fetched(self) -> Fetched:
        """The records fetched, from every assigned partition; when a few came, what came
        within ``linger_seconds`` after them too, so a burst is one batch, not one a record."""
        assert self._consumer is not None
        wait = min(self._commit_wait(), self._quiet) if self._processed else IDLE_FETCH_SECONDS
        batches = await self._consumer.getmany(timeout_ms=round(wait * 1000), max_records=MAX_BATCH)
        fetched = sum(len(records) for records in batches.values())
        if 0 < fetched < MAX_BATCH and self._linger > 0:
            await asyncio.sleep(self._linger)
            more = await self._consumer.getmany(timeout_ms=0, max_records=MAX_BATCH - fetched)
            for partition, records in more.items():
                batches[partition] = [*batches.get(partition, []), *records]
        return cast(Fetched, batches)

    def _commit_wait(self) -> float:
        """Seconds until what was processed is due to be committed (0: now)."""
        return max(0.0, min(self._commit_due - time.monotonic(), IDLE_FETCH_SECONDS))

    async def _open(self) -> None:
        if self._topics_to_create:
            await ensure_topics(self._bootstrap, self._topics_to_create)
            self._topics_to_create = []
        self._dlq = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, enable_idempotence=True, acks="all"
        )
        await self._dlq.start()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            # A group leader that assigned while a topic's partitions had no leader yet
            # sees them at its next metadata refresh and assigns again: seconds, not 5 min.
            metadata_max_age_ms=10_000,
        )
        self._consumer.subscribe(self.topics, listener=RebalanceListener(self))
        await self._consumer.start()

    async def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        dlq, self._dlq = self._dlq, None
        self._processed.clear()
        self._committed.clear()
        self.forget_known()
        for client in (consumer, dlq):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.stop()

    async def commit_processed(self, partitions: Sequence[TopicPartition]) -> None:
        offsets = {tp: self._processed[tp] for tp in partitions if tp in self._processed}
        await self._write_positions()
        if offsets and self._consumer is not None:
            await self._consumer.commit(offsets)
            for tp, offset in offsets.items():
                self._processed.pop(tp, None)
                self._committed[tp] = offset

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        """Partitions gone to another member: what this one committed there is no longer known."""
        for tp in partitions:
            self._committed.pop(tp, None)
        self.forget_known()

    def forget_known(self) -> None:
        """Partitions moved: another member may have applied and held events since.

        Positions not yet written are dropped with them: the offsets past their
        events were not committed either, so those events come again, and a
        late write could move a position back behind another member's.
        """
        self._positions_known.clear()
        self._positions_moved.clear()
        self._held_uncounted = set(self._handlers)

    async def _commit_past_markers(self) -> None:
        """Commit the position where it passed only transaction markers (no records).

        The relay publishes in transactions, whose commit markers take offsets;
        the consumer's position moves past them, and so does the committed offset,
        or every partition would show one record of lag that is not there.
        """
        consumer = self._consumer
        if consumer is None:
            return
        moved = {}
        for tp in consumer.assignment():
            if tp in self._processed:
                continue
            if tp not in self._committed:
                self._committed[tp] = await consumer.committed(tp) or 0
            position = await consumer.position(tp)
            if position > self._committed[tp]:
                moved[tp] = position
        if moved:
            await consumer.commit(moved)
            self._committed.update(moved)

    async def _update_lag(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        lag_by_topic: dict[str, int] = {}
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            lag = max(highwater - await consumer.position(tp), 0)
            CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(lag)
            lag_by_topic[tp.topic] = lag_by_topic.get(tp.topic, 0) + lag
        for topic, lag in lag_by_topic.items():
            self.freshness[topic].lag = lag

    # --- one batch -----------------------------------------------------------

    async def handle_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply the records with their view changes folded per document (``ViewBatch``).

        If writing the batch fails, nothing it moved counts: the positions are
        set back and the records applied again one at a time, so a record that
        cannot be written is retried and dead-lettered on its own.
        """
        known, moved = dict(self._positions_known), dict(self._positions_moved)
        batch = ViewBatch()
        token = VIEW_BATCH.set(batch)
        try:
            await self._side_by_side(records)
            with views_written(batch.traced, documents=len(batch)):
                await batch.write()
            return
        except BaseException as error:
            self._positions_known, self._positions_moved = known, moved
            if not isinstance(error, Exception):
                raise
            log.warning(
                "a batch's view writes failed; applying its records one at a time",
                extra={"group": self.group, "error": f"{type(error).__name__}: {error}"},
            )
        finally:
            VIEW_BATCH.reset(token)
        for record in records:
            await self.handle(record)

    async def _side_by_side(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Topic after topic; within a topic, each partition's records in order and the
        partitions side by side.

        Kafka orders records within a partition only, and a stream (one aggregate's
        events) stays in one partition, so no view depends on the order of a topic's
        partitions: while one partition's record waits on the database, another's runs.
        Topics take turns, as fetched: a projection of one topic's event reads copies
        made from another's (a U-CAP's creation pulls its cities' copies).
        """
        by_topic: dict[str, dict[int, list[ConsumerRecord[bytes, bytes]]]] = {}
        for record in records:
            by_topic.setdefault(record.topic, {}).setdefault(record.partition, []).append(record)

        async def in_order(partition_records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
            for record in partition_records:
                await self.handle(record)

        for partitions in by_topic.values():
            if len(partitions) == 1:
                await in_order(next(iter(partitions.values())))
                continue
            async with asyncio.TaskGroup() as side_by_side:
                for partition_records in partitions.values():
                    side_by_side.create_task(in_order(partition_records))

    # --- one record ----------------------------------------------------------

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> Result:
        """Apply one record; never raises for a bad record (it is dead-lettered)."""
        batch = VIEW_BATCH.get()
        with processing(record, self.group, batch.traced if batch is not None else None):
            return await self._handle(record)

    async def _handle(self, record: ConsumerRecord[bytes, bytes]) -> Result:
        origin = Origin.of(record)
        handlers = self._handlers[record.topic]
        try:
            envelope = parse_envelope(record.value)
            call = resolve(handlers, envelope)
        except UnusableRecord as error:
            return await self._dead_letter(origin, error)
        token = correlation_id.set(envelope.correlationid)
        try:
            result = await self._in_order(handlers, envelope, call, origin)
        finally:
            correlation_id.reset(token)
        return result

    async def _in_order(
        self, handlers: Handlers, envelope: Envelope, call: Call | None, origin: Origin
    ) -> Result:
        """Apply ``envelope`` if it is the next of its stream; hold it after a gap."""
        topic, stream = handlers.topic, envelope.subject
        if handlers.guard_themselves:
            return await self._guarded_by_handler(handlers, envelope, call, origin)
        last = self._positions_known.get((topic, stream))
        if last is None:
            last = await self._positions.last(topic, stream)
        if envelope.sequence <= last:
            result = Result.DUPLICATE
        elif envelope.sequence > last + 1:
            await self._hold(origin, envelope, f"{stream}: got {envelope.sequence} after {last}")
            result = Result.HELD
        else:
            result = Result.IGNORED if call is None else await self._call_with_retries(call, origin)
            if result is not Result.DEAD_LETTERED:
                self._positions_moved[(topic, stream)] = (envelope.sequence, envelope.time)
                self._positions_known[(topic, stream)] = envelope.sequence
                self._note_fresh(topic, envelope)
                await self._release_held(handlers, envelope)
        EVENTS_CONSUMED.labels(self.group, topic, result.value).inc()
        return result

    async def _guarded_by_handler(
        self, handlers: Handlers, envelope: Envelope, call: Call | None, origin: Origin
    ) -> Result:
        """Apply ``envelope`` on a topic whose handlers skip duplicates and fill gaps."""
        result = Result.IGNORED if call is None else await self._call_with_retries(call, origin)
        if result is not Result.DEAD_LETTERED:
            topic = handlers.topic
            moved = self._positions_moved.get((topic, WHOLE_TOPIC))
            if moved is None or envelope.time > moved[1]:
                self._positions_moved[(topic, WHOLE_TOPIC)] = (0, envelope.time)
            self._note_fresh(topic, envelope)
        EVENTS_CONSUMED.labels(self.group, handlers.topic, result.value).inc()
        return result

    async def _write_positions(self) -> None:
        """One write per stream moved since the last: a batch of a stream's events costs one.

        The batch's view changes are written first: a position never runs ahead of them.
        """
        if (batch := VIEW_BATCH.get()) is not None:
            await batch.write()
        moved, self._positions_moved = self._positions_moved, {}
        try:
            await self._positions.advance_all(
                [
                    (topic, stream, sequence, time)
                    for (topic, stream), (sequence, time) in moved.items()
                ]
            )
        except BaseException:
            self._positions_moved = {**moved, **self._positions_moved}
            raise

    async def _call_with_retries(self, call: Call, origin: Origin) -> Result:
        try:
            return await call_with_retries(call, group=self.group, policy=self._retry)
        except Exception as error:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
            return await self._dead_letter(origin, error)

    def _note_fresh(self, topic: str, envelope: Envelope) -> None:
        freshness = self.freshness[topic]
        if freshness.last_event_time is None or envelope.time > freshness.last_event_time:
            freshness.last_event_time = envelope.time
        freshness.last_applied_at = datetime.now(UTC)

    async def _dead_letter(self, origin: Origin, error: Exception) -> Result:
        assert self._dlq is not None, "dead-lettering needs a started runner"
        return await dead_letter(self._dlq, self.dead_letter_topic, self.group, origin, error)

    # --- held events (gaps) --------------------------------------------------

    async def _hold(self, origin: Origin, envelope: Envelope, reason: str) -> None:
        await self._held.hold(origin, envelope, reason)
        await self._count_held(origin.topic)

    async def _count_held(self, topic: str) -> None:
        self.freshness[topic].held_events = await self._held.count(topic)

    async def _release_held(self, handlers: Handlers, applied: Envelope) -> None:
        """Apply the held event that was waiting for ``applied``, if any (and so on)."""
        if handlers.topic in self._held_uncounted:
            await self._count_held(handlers.topic)
            self._held_uncounted.discard(handlers.topic)
        if self.freshness[handlers.topic].held_events == 0:
            return  # none held by this group: each hold counts again
        waiting = await self._held.waiting_after(handlers.topic, applied)
        if waiting is None:
            return
        # Once it is no longer held, only the position says the gap before it was filled.
        await self._write_positions()
        envelope, origin = await self._held.release(waiting)
        await self._count_held(handlers.topic)
        try:
            call = resolve(handlers, envelope)
        except UnusableRecord as error:
            await self._dead_letter(origin, error)
            return
        await self._in_order(handlers, envelope, call, origin)


class RebalanceListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commit what was processed before partitions move to another member.

    aiokafka calls it from its own task, perhaps while a fetched batch is being
    applied: it waits until that batch is applied and committed (``handling``).
    """

    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self._runner.handling:
            with contextlib.suppress(Exception):
                await self._runner.commit_processed(revoked)
            self._runner.forget(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        async with self._runner.handling:
            self._runner.forget_known()
