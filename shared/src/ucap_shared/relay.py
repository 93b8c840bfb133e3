"""The relay: publishes the event store's unpublished commits to Kafka, in order.

Only the holder of the relay lease publishes, so replicas of a service never
race each other. Each batch is one Kafka transaction of a producer whose
transactional id is the service's (``<topic>.relay``); a relay starts that
producer anew whenever it takes a new epoch of the lease, and starting it
fences the producer of every earlier holder, so a holder that stalled past its
lease cannot publish once its successor has begun: its transaction is aborted
and consumers, reading committed records only, never see it. Every record carries
the epoch it was published under (the ``ucap-lease-epoch`` header), so a topic's
log shows which holder published what: epochs never go backwards in a partition.
A holder whose transaction committed but which lost its lease (or was killed)
before it marked the commits published leaves them to its successor, which
publishes them again under its own, later epoch; views dedupe by version.

The relay wakes as soon as the local store appends; a slow poll catches appends
made by other replicas. While Kafka is down it backs off and keeps the events;
nothing is marked published before Kafka acknowledged it.

When Kafka refuses a record itself (too large, invalid: ``RECORD_ERRORS``), trying
the batch again can never help, and it would hold every later commit back. The
relay then publishes the batch in halves, down to single commits, and tries a
refused commit on its own a few times with backoff before it *parks* it, with
Kafka's answer (``ucap_shared.parking``): the other aggregates' commits flow on,
and that aggregate's later commits wait behind it, in order, until an operator
retries it (``ucap parked retry``). Kafka being down parks nothing.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidMessageError,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from pydantic import ValidationError

from ucap_shared.backoff import Backoff, bounded_retries
from ucap_shared.envelope import Envelope
from ucap_shared.eventstore import Document, EventStore, envelopes_of
from ucap_shared.health import Degraded
from ucap_shared.kafka import MAX_RECORD_BYTES
from ucap_shared.lease import Lease
from ucap_shared.metrics import EVENTS_PUBLISHED, RELAY_BACKLOG, RELAY_PARKED
from ucap_shared.parking import ParkedCommit
from ucap_shared.shutdown import cancelled
from ucap_shared.topics import TopicSpec, ensure_topics
from ucap_shared.tracing import PublishSpans

log = logging.getLogger(__name__)

TRIES_ALONE = 5
"""How often a refused commit is tried on its own before it is parked."""
LINGER_SECONDS = 0.025
"""How long the relay waits after an append before it reads the commits to publish."""
LEASE_EPOCH_HEADER = "ucap-lease-epoch"
"""The record header holding the relay lease epoch a record was published under (not a
``ce_`` header: the records are structured CloudEvents, whole in the value)."""


class UnusableCommitError(Exception):
    """A commit document that holds no valid envelopes (one edited by hand, say)."""


RECORD_ERRORS: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidMessageError,
    InvalidTimestampError,
    UnusableCommitError,
)
"""Refusals of the record itself, by the producer or the broker: sending it again as it
is cannot succeed. Anything else (no broker, a timeout, a fenced producer) is about
Kafka or the lease, and the relay backs off and keeps every commit."""


class _LeaseLost(Exception):  # noqa: N818 - an outcome that ends the batch, not a fault
    """This relay no longer holds the lease: it stops before it sends or parks anything."""


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
        tries_alone: int = TRIES_ALONE,
        first_retry_seconds: float = 0.2,
        linger_seconds: float = LINGER_SECONDS,
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
        self._tries_alone = tries_alone
        self._first_retry = first_retry_seconds
        self._linger = linger_seconds
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.published_total = 0
        self.parked: list[ParkedCommit] = []
        """The store's parked commits, read again at most once per poll (and after parking)."""
        self._parked_read_at: float | None = None
        self._parked_epoch: int | None = None

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"relay:{self.topic}")

    async def stop(self) -> None:
        if self._task is not None:
            await cancelled(self._task)
        await self._close_producer()
        with contextlib.suppress(Exception):
            await self.lease.release()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def check(self) -> Degraded | None:
        """Readiness: the relay task is alive; degraded while it holds commits parked."""
        if not self.running:
            raise RuntimeError("relay is not running")
        if not self.parked:
            return None
        first = self.parked[0]
        return Degraded(
            f"{len(self.parked)} parked commit(s) Kafka refuses, their aggregates' later "
            f"commits waiting behind them; first {first.commit_id}: {first.error}",
            details={
                "parked_commits": len(self.parked),
                "first_parked": first.model_dump(mode="json"),
            },
        )

    # --- work --------------------------------------------------------------

    async def _run(self) -> None:
        backoff = Backoff(first=0.2, most=self._max_backoff)
        while True:
            try:
                if self._topics_to_create:
                    await ensure_topics(self._bootstrap, self._topics_to_create)
                    self._topics_to_create = []
                await self._refresh_parked()
                # A batch short of full took everything pending when it was read;
                # what was appended since has set ``appended`` again.
                while (
                    await self.lease.acquire() and await self.publish_pending() >= self._batch_size
                ):
                    pass
                self.last_error = None
                backoff.reset()
                await self._wait_for_work()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep relaying whatever went wrong
                # Fenced by a producer started after this one's, or stalled for long:
                # whatever this relay remembers of its term, the store decides before
                # it starts a producer again.
                self.lease.distrust()
                self.last_error = f"{type(error).__name__}: {error}"
                wait = backoff.next_wait()
                log.warning(
                    "relay failed; retrying", extra={"error": self.last_error, "in": round(wait, 3)}
                )
                await self._close_producer()
                await asyncio.sleep(wait)

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._poll):
                await self.store.appended.wait()
        if self.store.appended.is_set() and self._linger > 0:
            # Appends come in bursts under load: a moment's wait sends them in one Kafka
            # transaction and marks them in one command, instead of a transaction each.
            await asyncio.sleep(self._linger)
        self.store.appended.clear()

    async def _refresh_parked(self, *, now: bool = False) -> None:
        """Every replica reads the parked commits (an indexed equality, small documents)
        at most once a poll, so its readiness and gauge say what the store holds, and
        its store knows which aggregates to hold back."""
        read_at = time.monotonic()
        recent = self._parked_read_at is not None and read_at - self._parked_read_at < self._poll
        if recent and not now:
            return
        self.parked = await self.store.parked()
        self._parked_read_at = read_at
        RELAY_PARKED.labels(self.store.source).set(len(self.parked))

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished commits; return how many it published or parked.

        The producer is started (fencing every earlier holder's) before the lease
        is checked once more and the batch read: a successor takes its epoch
        before it starts its own producer, so either this check sees it, or the
        successor's producer fences this one before or while it sends. A producer
        started again while the batch is isolated is checked the same way.
        """
        await self._producer_started()
        if not await self.lease.still_held():
            return 0
        if self._parked_epoch != self.lease.epoch:
            # What earlier holders parked, before this epoch publishes anything.
            await self._refresh_parked(now=True)
            self._parked_epoch = self.lease.epoch
        commits, pending = await self.store.unpublished(self._batch_size)
        RELAY_BACKLOG.labels(self.store.source).set(pending)
        if not commits:
            return 0
        try:
            return await self._publish_part(commits, blocked=set())
        except _LeaseLost:
            return 0

    async def _publish_part(self, commits: list[Document], *, blocked: set[str]) -> int:
        """Publish ``commits`` in one transaction; if Kafka refuses a record of them, in
        halves. ``blocked``: aggregates with a commit parked, whose later ones wait."""
        commits = [commit for commit in commits if commit["aggregate_id"] not in blocked]
        if len(commits) == 1:
            return await self._publish_alone(commits[0], blocked=blocked)
        if not commits:
            return 0
        try:
            await self._send(commits)
        except RECORD_ERRORS as error:
            log.warning(
                "Kafka refused a record; publishing the commits in halves to find it",
                extra={"error": _described(error), "commits": len(commits)},
            )
            await self._close_producer()
            half = len(commits) // 2
            first = await self._publish_part(commits[:half], blocked=blocked)
            return first + await self._publish_part(commits[half:], blocked=blocked)
        await self._published(commits)
        return len(commits)

    async def _publish_alone(self, commit: Document, *, blocked: set[str]) -> int:
        """Try one commit on its own, with jittered backoff; park it when Kafka keeps
        refusing it."""
        retries = bounded_retries(
            attempts=self._tries_alone,
            first=self._first_retry,
            most=self._max_backoff,
            on=RECORD_ERRORS,
        )
        try:
            async for attempt in retries:
                with attempt:
                    try:
                        await self._send([commit])
                    except RECORD_ERRORS:
                        await self._close_producer()
                        raise
        except RECORD_ERRORS as refused:
            blocked.add(commit["aggregate_id"])
            await self._park(commit, _described(refused))
            return 1
        await self._published([commit])
        return 1

    async def _send(self, commits: list[Document]) -> None:
        envelopes = [envelope for commit in commits for envelope in _envelopes(commit)]
        producer = await self._producer_checked()
        if self._producer_epoch is None:
            raise _LeaseLost
        epoch = (LEASE_EPOCH_HEADER, str(self._producer_epoch).encode())
        async with PublishSpans(self.topic, commits) as traced, producer.transaction():
            sends = [
                await producer.send(
                    self.topic,
                    envelope.to_json(),
                    key=envelope.record_key(),
                    headers=[*envelope.record_headers(), *traced.headers(envelope), epoch],
                )
                for envelope in envelopes
            ]
            await asyncio.gather(*sends)

    async def _producer_checked(self) -> AIOKafkaProducer:
        """The batch's producer; one started again (after a refusal closed it) is followed
        by a lease check, as at the start of a batch."""
        if self._producer is not None:
            return self._producer
        producer = await self._producer_started()
        if not await self.lease.still_held():
            raise _LeaseLost
        return producer

    async def _published(self, commits: list[Document]) -> None:
        await self.mark_published([commit["_id"] for commit in commits])
        events = sum(len(commit["events"]) for commit in commits)
        EVENTS_PUBLISHED.labels(self.topic).inc(events)
        self.published_total += events

    async def mark_published(self, commit_ids: list[str]) -> None:
        await self.store.mark_published(commit_ids)

    async def _park(self, commit: Document, error: str) -> None:
        if not await self.lease.still_held():
            raise _LeaseLost
        await self.store.park(commit, error=error, tries=self._tries_alone)
        log.error(
            "parked a commit Kafka refuses; its aggregate's later commits wait behind it",
            extra={"commit": commit["_id"], "error": error, "tries": self._tries_alone},
        )
        await self._refresh_parked(now=True)

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
                max_request_size=MAX_RECORD_BYTES,
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


def _envelopes(commit: Document) -> list[Envelope]:
    try:
        return envelopes_of(commit)
    except (KeyError, TypeError, ValidationError) as error:
        raise UnusableCommitError(f"{commit.get('_id')} holds no valid events: {error}") from error


def _described(error: Exception | None) -> str:
    if error is None:
        return "refused"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
