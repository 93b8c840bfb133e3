"""Reading a topic from its beginning to the end it had when the reading began.

For rebuilds, as-of replays and operators' tools: no consumer group (nothing
commits), committed records only, and aiokafka's public API alone (the admin
client names the partitions).
"""

import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

Record: TypeAlias = ConsumerRecord[bytes, bytes]
POLL_MILLISECONDS = 1000


async def partitions_of(bootstrap: str, topics: list[str]) -> dict[str, list[TopicPartition]]:
    """Each topic's partitions, in order; a topic that does not exist is left out."""
    wanted = sorted(set(topics))
    if not wanted:
        return {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(wanted)
    finally:
        await admin.close()
    return {
        entry["topic"]: sorted(
            TopicPartition(entry["topic"], partition["partition"])
            for partition in entry["partitions"]
        )
        for entry in described
        if entry["error_code"] == 0
    }


class TopicToItsEnd:
    """``async with TopicToItsEnd(bootstrap, topic) as reading``: its ``starts`` and ``ends``
    per partition are known on entry, and ``reading.records()`` yields every record up to
    those ends, each partition in order."""

    def __init__(
        self, bootstrap: str, topic: str, *, deadline_seconds: float | None = None
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.deadline_seconds = deadline_seconds
        self.starts: dict[TopicPartition, int] = {}
        self.ends: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def partitions(self) -> list[TopicPartition]:
        return sorted(self.ends)

    @property
    def offsets(self) -> int:
        """Offsets up to the ends: the records, and the transaction markers among them."""
        return sum(self.ends[tp] - self.starts[tp] for tp in self.ends)

    async def __aenter__(self) -> Self:
        partitions = (await partitions_of(self.bootstrap, [self.topic])).get(self.topic, [])
        if not partitions:
            return self  # no consumer: stopped right after its start, aiokafka's may raise
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await consumer.start()
        self._consumer = consumer
        try:
            self.starts = await consumer.beginning_offsets(partitions)
            self.ends = await consumer.end_offsets(partitions)
        except BaseException:
            await consumer.stop()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def records(self) -> AsyncIterator[Record]:
        """Every record up to the ends; TimeoutError past ``deadline_seconds``, if given."""
        consumer = self._consumer
        if consumer is None:
            return
        consumer.assign(self.partitions)
        await consumer.seek_to_beginning(*self.partitions)
        deadline = (
            None if self.deadline_seconds is None else time.monotonic() + self.deadline_seconds
        )
        remaining = [tp for tp in self.partitions if self.ends[tp] > self.starts[tp]]
        while remaining:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"reading {self.topic} took over {self.deadline_seconds:g}s")
            batches = await consumer.getmany(*remaining, timeout_ms=POLL_MILLISECONDS)
            for tp, batch in batches.items():
                for record in batch:
                    if record.offset < self.ends[tp]:
                        yield record
            remaining = [tp for tp in remaining if await consumer.position(tp) < self.ends[tp]]
