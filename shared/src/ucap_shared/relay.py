"""The relay: publishes the event store's unpublished commits to Kafka, in order.

Only the holder of the relay lease publishes, so replicas of a service never
race each other. Each batch is one Kafka transaction of a producer whose
transactional id is the service's (``<topic>.relay``); a relay starts that
producer anew whenever it takes a new epoch of the lease, and starting it
fences the producer of every earlier holder, so a holder that stalled past its
lease cannot publish once its successor has begun: its transaction is aborted
and consumers, reading committed records only, never see it.

The relay wakes as soon as the local store appends; a slow poll catches appends
made by other replicas. While Kafka is down it backs off and keeps the events;
nothing is marked published before Kafka acknowledged it.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from ucap_shared.eventstore import EventStore, envelopes_of
from ucap_shared.lease import Lease
from ucap_shared.metrics import EVENTS_PUBLISHED, RELAY_BACKLOG
from ucap_shared.topics import TopicSpec, ensure_topics

log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self,
        store: EventStore,
        lease: Lease,
        *,
        bootstrap_servers: str,
        topic: str,
        batch_size: int = 500,
        poll_seconds: float = 2.0,
        max_backoff_seconds: float = 10.0,
        topics_to_create: Sequence[TopicSpec] = (),
    ) -> None:
        self.store = store
        self.lease = lease
        self.topic = topic
        self._bootstrap = bootstrap_servers
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._topics_to_create = list(topics_to_create)
        self._producer: AIOKafkaProducer | None = None
        self._producer_epoch: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.published_total = 0

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"relay:{self.topic}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_producer()
        with contextlib.suppress(Exception):
            await self.lease.release()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def check(self) -> None:
        """Readiness: the relay task is alive."""
        if not self.running:
            raise RuntimeError("relay is not running")

    # --- work --------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                if self._topics_to_create:
                    await ensure_topics(self._bootstrap, self._topics_to_create)
                    self._topics_to_create = []
                # A batch short of full took everything pending when it was read;
                # what was appended since has set ``appended`` again.
                while (
                    await self.lease.acquire() and await self.publish_pending() >= self._batch_size
                ):
                    pass
                self.last_error = None
                backoff = 0.2
                await self._wait_for_work()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep relaying whatever went wrong
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning(
                    "relay failed; retrying", extra={"error": self.last_error, "in": backoff}
                )
                await self._close_producer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.store.appended.wait(), self._poll)
        self.store.appended.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished commits; return how many were published.

        The producer is started (fencing every earlier holder's) before the lease
        is checked once more and the batch read: a successor takes its epoch
        before it starts its own producer, so either this check sees it, or the
        successor's producer fences this one before or while it sends.
        """
        producer = await self._producer_started()
        if not await self.lease.still_held():
            return 0
        commits, pending = await self.store.unpublished(self._batch_size)
        RELAY_BACKLOG.labels(self.store.source).set(pending)
        if not commits:
            return 0
        envelopes = [envelope for commit in commits for envelope in envelopes_of(commit)]
        async with producer.transaction():
            sends = [
                await producer.send(
                    self.topic,
                    envelope.to_json(),
                    key=envelope.record_key(),
                    headers=envelope.record_headers(),
                )
                for envelope in envelopes
            ]
            await asyncio.gather(*sends)
        await self.mark_published([commit["_id"] for commit in commits])
        EVENTS_PUBLISHED.labels(self.topic).inc(len(envelopes))
        self.published_total += len(envelopes)
        return len(commits)

    async def mark_published(self, commit_ids: list[str]) -> None:
        await self.store.mark_published(commit_ids)

    async def _producer_started(self) -> AIOKafkaProducer:
        if self._producer is not None and self._producer_epoch != self.lease.epoch:
            await self._close_producer()
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                transactional_id=f"{self.topic}.relay",
                enable_idempotence=True,
                acks="all",
                linger_ms=5,
                request_timeout_ms=10_000,
            )
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer, self._producer_epoch = producer, self.lease.epoch
        return self._producer

    async def _close_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(Exception):
                await producer.stop()
