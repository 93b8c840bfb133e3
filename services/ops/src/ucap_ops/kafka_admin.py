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
from ucap_shared import topic_reading
from ucap_shared.topic_reading import TopicToItsEnd

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
    try:
        async with TopicToItsEnd(
            bootstrap, topic, deadline_seconds=READ_DEADLINE_SECONDS
        ) as reading:
            return [record async for record in reading.records()]
    except TimeoutError as error:
        raise CommandError(str(error)) from error


async def read_record(bootstrap: str, topic: str, partition: int, offset: int) -> Record | None:
    """The record at ``offset`` of one partition; None when there is none."""
    tp = TopicPartition(topic, partition)
    if tp not in (await topic_reading.partitions_of(bootstrap, [topic])).get(topic, []):
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
