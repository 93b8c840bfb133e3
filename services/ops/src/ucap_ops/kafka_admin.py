"""What the operators' commands ask of Kafka: offsets, groups, and records to read.

Every reader here has no consumer group: reading never moves a service's
committed offsets.
"""

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ucap_ops.backbone import CommandError

Record: TypeAlias = ConsumerRecord[bytes, bytes]
READ_DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class GroupState:
    state: str
    members: int


@asynccontextmanager
async def topic_reader(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topics: Iterable[str]) -> dict[str, list[TopicPartition]]:
    """Each topic's partitions; a topic that does not exist is left out."""
    wanted = sorted(set(topics))
    if not wanted:
        return {}
    async with admin_client(bootstrap) as admin:
        described = await admin.describe_topics(wanted)
    return {
        entry["topic"]: sorted(
            TopicPartition(entry["topic"], partition["partition"])
            for partition in entry["partitions"]
        )
        for entry in described
        if entry["error_code"] == 0
    }


async def offset_range(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, tuple[int, int]]:
    """Each partition's first offset and its end (the offset the next record gets)."""
    wanted = list(partitions)
    if not wanted:
        return {}
    starts = await consumer.beginning_offsets(wanted)
    ends = await consumer.end_offsets(wanted)
    return {tp: (starts[tp], ends[tp]) for tp in wanted}


async def read_topic(bootstrap: str, topic: str) -> list[Record]:
    """Every record of ``topic`` from its beginning to its end as of now."""
    partitions = (await partitions_of(bootstrap, [topic])).get(topic, [])
    if not partitions:
        return []
    async with topic_reader(bootstrap) as consumer:
        ends = {tp: end for tp, (_, end) in (await offset_range(consumer, partitions)).items()}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Record] = []
        deadline = time.monotonic() + READ_DEADLINE_SECONDS
        remaining = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
        while remaining:
            if time.monotonic() > deadline:
                raise CommandError(f"reading {topic} took over {READ_DEADLINE_SECONDS:g}s")
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, batch in batches.items():
                records += [record for record in batch if record.offset < ends[tp]]
            remaining = [tp for tp in remaining if await consumer.position(tp) < ends[tp]]
        return records


async def read_record(bootstrap: str, topic: str, partition: int, offset: int) -> Record | None:
    """The record at ``offset`` of one partition; None when there is none."""
    tp = TopicPartition(topic, partition)
    if tp not in (await partitions_of(bootstrap, [topic])).get(topic, []):
        return None
    async with topic_reader(bootstrap) as consumer:
        start, end = (await offset_range(consumer, [tp]))[tp]
        if not start <= offset < end:
            return None
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + READ_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                if record.offset == offset:
                    return record
                if record.offset > offset:
                    return None
        raise CommandError(
            f"reading {topic}/{partition}@{offset} took over {READ_DEADLINE_SECONDS:g}s"
        )


async def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    """The group's committed offsets; partitions it never committed are absent."""
    async with admin_client(bootstrap) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    return {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}


async def group_state(bootstrap: str, group: str) -> GroupState:
    """The group's state as the coordinator reports it (``Empty``, ``Stable`` …)."""
    async with admin_client(bootstrap) as admin:
        described = await admin.describe_consumer_groups([group])
    for response in described:
        for entry in response.groups:
            # (error_code, group_id, state, protocol_type, protocol, members, …)
            state, members = entry[2], entry[5]
            return GroupState(state=str(state) or "Unknown", members=len(members))
    return GroupState(state="Unknown", members=0)
