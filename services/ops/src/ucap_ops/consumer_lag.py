"""How far behind each service's consumer group is, per topic it reads.

Lag is what the group has not read yet: each partition's end offset minus the
group's committed offset (or minus the partition's first offset where the
group never committed, as it would start there). How fresh the group's views
are comes from its stream positions: the time of the newest event it applied
from the topic, and when it last applied one.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import TopicPartition

from ucap_ops.kafka_admin import (
    GroupState,
    committed_offsets,
    group_state,
    offset_range,
    topic_reader,
)
from ucap_ops.targets import ServiceTarget
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.positions import StreamPositions, TopicPosition
from ucap_shared.topic_reading import partitions_of


@dataclass(frozen=True)
class TopicLag:
    topic: str
    exists: bool
    lag_by_partition: dict[int, int]
    position: TopicPosition

    @property
    def lag(self) -> int:
        return sum(self.lag_by_partition.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "exists": self.exists,
            "lag": self.lag,
            "lag_by_partition": {str(p): lag for p, lag in self.lag_by_partition.items()},
            "last_event_time": _iso(self.position.last_event_time),
            "last_applied_at": _iso(self.position.last_applied_at),
        }


@dataclass(frozen=True)
class GroupLag:
    service: str
    group: str
    state: GroupState
    topics: list[TopicLag] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "group": self.group,
            "state": self.state.state,
            "members": self.state.members,
            "lag": sum(topic.lag for topic in self.topics),
            "topics": [topic.as_json() for topic in self.topics],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def topics_read(target: ServiceTarget, mongo: MongoClient) -> list[str]:
    """The topics the service's consumers read, from its own handler definitions."""
    from ucap_shared.app import ServiceRuntime
    from ucap_shared.eventstore import EventStore

    definition = target.definition()
    if definition.handlers is None:
        return []
    database = mongo[target.settings.database]
    runtime = ServiceRuntime(
        settings=target.settings,
        mongo=mongo,
        store=EventStore(database, source=f"ucap/{target.name}"),
    )
    return sorted({handlers.topic for handlers in definition.handlers(runtime)})


async def measure(targets: list[ServiceTarget]) -> list[GroupLag]:
    """Every target's group: its state and, per topic it reads, lag and freshness."""
    if not targets:
        return []
    bootstrap = targets[0].settings.kafka_bootstrap_servers
    mongo = connect_mongo(targets[0].settings.mongodb_uri)
    try:
        read_by = {target.name: topics_read(target, mongo) for target in targets}
        partitions = await partitions_of(
            bootstrap, sorted({t for ts in read_by.values() for t in ts})
        )
        async with topic_reader(bootstrap) as consumer:
            ranges = await offset_range(consumer, [tp for tps in partitions.values() for tp in tps])
        groups = []
        for target in targets:
            group = target.settings.group
            committed = await committed_offsets(bootstrap, group)
            positions = StreamPositions(mongo[target.settings.database]["stream_positions"], group)
            topics = [
                TopicLag(
                    topic=topic,
                    exists=topic in partitions,
                    lag_by_partition=_lag(partitions.get(topic, []), ranges, committed),
                    position=await positions.newest(topic),
                )
                for topic in read_by[target.name]
            ]
            groups.append(GroupLag(target.name, group, await group_state(bootstrap, group), topics))
        return groups
    finally:
        await mongo.close()


def _lag(
    partitions: list[TopicPartition],
    ranges: dict[TopicPartition, tuple[int, int]],
    committed: dict[TopicPartition, int],
) -> dict[int, int]:
    lag = {}
    for tp in partitions:
        start, end = ranges[tp]
        lag[tp.partition] = max(end - committed.get(tp, start), 0)
    return lag
