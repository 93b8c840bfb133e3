"""Gauges read from the databases and Kafka every few seconds, not kept by the work itself.

The relay sets the outbox backlog only while it holds the lease and reaches
Kafka, and the consumer counts held events only when it holds or releases one:
during a broker outage, when an operator needs them most, they would stand
still. So each process reads them itself, every ``UCAP_METRICS_SAMPLE_SECONDS``:

- the outbox: commits waiting, parked ones, and the age of the oldest waiting
  (one indexed equality on ``published``, as the relay's own query);
- events held back after a gap, per topic (an equality on the consumer group);
- the dead-letter topic's records, and those not replayed yet;
- every readiness check, into ``ucap_health_check`` (as a probe would).

Each part is read on its own: MongoDB down still samples Kafka's, and the
reverse. A part that fails keeps its last value; ``ucap_metrics_sampled_timestamp_seconds``
says when the sampling last ran.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.collection import AsyncCollection

from ucap_shared.consumer import ConsumerRunner
from ucap_shared.eventstore import EventStore
from ucap_shared.health import ReadinessCheck, readiness
from ucap_shared.metrics import (
    DEAD_LETTERS,
    DEAD_LETTERS_WAITING,
    HELD_EVENTS,
    OUTBOX_OLDEST_SECONDS,
    RELAY_BACKLOG,
    RELAY_PARKED,
    SAMPLED_AT,
)
from ucap_shared.shutdown import cancelled

log = logging.getLogger(__name__)

DEAD_LETTER_REPLAYS = "dead_letter_replays"
"""The collection where ``ucap dlq replay`` records each replayed record, one per id."""

Document = dict[str, Any]


class DeadLetterDepth:
    """How many records the dead-letter topic holds, and how many were not replayed."""

    def __init__(
        self, bootstrap_servers: str, topic: str, replays: AsyncCollection[Document]
    ) -> None:
        self.topic = topic
        self._bootstrap = bootstrap_servers
        self._replays = replays
        self._reader: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []

    async def sample(self) -> None:
        try:
            reader = await self._started()
            if not self._partitions:
                self._partitions = await self._partitions_of_topic()
            starts = await reader.beginning_offsets(self._partitions)
            ends = await reader.end_offsets(self._partitions)
        except Exception:
            await self.close()  # connected afresh next time
            raise
        records = sum(ends[tp] - starts[tp] for tp in self._partitions)
        replayed = len(await self._replays.find({}, {"_id": 1}).to_list())
        DEAD_LETTERS.labels(self.topic).set(records)
        DEAD_LETTERS_WAITING.labels(self.topic).set(max(records - replayed, 0))

    async def _started(self) -> AIOKafkaConsumer:
        if self._reader is None:
            reader = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                enable_auto_commit=False,
                request_timeout_ms=5000,
            )
            try:
                await reader.start()
            except Exception:
                await reader.stop()
                raise
            self._reader = reader
        return self._reader

    async def _partitions_of_topic(self) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=5000)
        await admin.start()
        try:
            [described] = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        if described["error_code"] != 0:
            return []
        return [TopicPartition(self.topic, p["partition"]) for p in described["partitions"]]

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        self._partitions = []
        if reader is not None:
            with contextlib.suppress(Exception):
                await reader.stop()


class GaugeSampler:
    """Reads the sampled gauges every ``every_seconds``, from start to stop."""

    def __init__(
        self,
        *,
        every_seconds: float,
        checks: Mapping[str, ReadinessCheck],
        check_timeout_seconds: float,
        store: EventStore | None = None,
        consumer: ConsumerRunner | None = None,
        held: AsyncCollection[Document] | None = None,
        dead_letters: DeadLetterDepth | None = None,
    ) -> None:
        self._every = every_seconds
        self._checks = checks
        self._check_timeout = check_timeout_seconds
        self._store = store
        self._consumer = consumer
        self._held = held
        self._dead_letters = dead_letters
        self._task: asyncio.Task[None] | None = None
        self.backlog: int | None = None
        """Commits waiting to be published (parked ones too), as last sampled."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gauge-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            await cancelled(self._task)
        if self._dead_letters is not None:
            await self._dead_letters.close()

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self._every)

    async def sample(self) -> None:
        parts: list[tuple[str, Callable[[], Awaitable[None]]]] = [("health", self._health)]
        if self._store is not None:
            parts.append(("outbox", self._outbox))
        if self._consumer is not None and self._held is not None:
            parts.append(("held events", self._held_events))
        if self._dead_letters is not None:
            parts.append(("dead letters", self._dead_letters.sample))
        await asyncio.gather(*(self._sampled(name, part) for name, part in parts))
        SAMPLED_AT.set(time.time())

    async def _sampled(self, name: str, part: Callable[[], Awaitable[None]]) -> None:
        try:
            await asyncio.wait_for(part(), max(self._every, self._check_timeout))
        except Exception as error:  # noqa: BLE001 - the gauge keeps its last value
            log.debug("sampling failed", extra={"part": name, "error": repr(error)})

    async def _health(self) -> None:
        await readiness(self._checks, self._check_timeout)

    async def _outbox(self) -> None:
        assert self._store is not None
        outbox = await self._store.outbox()
        service = self._store.source
        self.backlog = outbox.pending + outbox.parked
        RELAY_BACKLOG.labels(service).set(self.backlog)
        RELAY_PARKED.labels(service).set(outbox.parked)
        oldest = outbox.oldest_recorded_at
        age = 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
        OUTBOX_OLDEST_SECONDS.labels(service).set(max(age, 0.0))

    async def _held_events(self) -> None:
        assert self._consumer is not None
        assert self._held is not None
        group = self._consumer.group
        held = await self._held.find({"group": group}, {"topic": 1}).to_list()
        per_topic = Counter(str(document.get("topic")) for document in held)
        for topic in self._consumer.topics:
            HELD_EVENTS.labels(group, topic).set(per_topic.get(topic, 0))
