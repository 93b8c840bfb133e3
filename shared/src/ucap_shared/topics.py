"""Topic names and their creation."""

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from ucap_shared.kafka import MAX_RECORD_BYTES

log = logging.getLogger(__name__)

KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
TOPIC_CONFIG = {**KEEP_FOREVER, "max.message.bytes": str(MAX_RECORD_BYTES)}
"""Kept forever, and records as large as the producer sends (``MAX_RECORD_BYTES``) stated
on the topic itself rather than left to whatever the cluster's default is."""


def namespace() -> str:
    """The topics' first name part: ``ucap``, or ``UCAP_TOPIC_NAMESPACE`` where set.

    One Kafka cluster can so hold several ucap installations (staging beside
    production, or one end-to-end test run beside another).
    """
    return os.environ.get("UCAP_TOPIC_NAMESPACE", "ucap")


def events_topic(service: str, *, within: str | None = None) -> str:
    """The topic a service publishes its domain events to."""
    return f"{within or namespace()}.{service}.events"


def dead_letter_topic(service: str, *, within: str | None = None) -> str:
    """Where a service's consumers put the records they could not apply."""
    return f"{within or namespace()}.{service}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 3
    replication_factor: int = 1
    config: dict[str, str] = field(default_factory=lambda: dict(TOPIC_CONFIG))


TOPICS_READY_SECONDS = 30.0
"""How long :func:`ensure_topics` waits for every partition of its topics to have a leader."""


async def ensure_topics(bootstrap_servers: str, topics: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return the names created.

    It returns once every partition of every topic has a leader in the metadata the
    cluster gives out (or after ``TOPICS_READY_SECONDS``, with a warning). A consumer
    group's leader assigns partitions from that metadata: a topic created a moment
    ago, whose partitions have no leader yet (three brokers just started, each
    partition on all three), would be left out of the assignment, and the group
    would not consume it until the leader's next metadata refresh.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topics if spec.name not in existing]
        if missing:
            await _create(admin, missing)
        await _wait_for_leaders(admin, topics)
        return [spec.name for spec in missing]
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, missing: list[TopicSpec]) -> None:
    new = [
        NewTopic(spec.name, spec.partitions, spec.replication_factor, topic_configs=spec.config)
        for spec in missing
    ]
    response = await admin.create_topics(new)
    for name, code, *message in response.topic_errors:
        if code not in (0, TopicAlreadyExistsError.errno):
            raise for_code(code)(f"creating topic {name}: {message}")
    log.info("created topics", extra={"topics": [spec.name for spec in missing]})


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: list[TopicSpec]) -> None:
    deadline = time.monotonic() + TOPICS_READY_SECONDS
    waiting = sorted({spec.name for spec in topics})
    while waiting:
        described = await admin.describe_topics(waiting)
        waiting = sorted(set(waiting) - {t["topic"] for t in described if _led(t)})
        if not waiting:
            return
        if time.monotonic() > deadline:
            log.warning("topics without a leader for every partition", extra={"topics": waiting})
            return
        await asyncio.sleep(0.2)


def _led(described: dict[str, Any]) -> bool:
    partitions = described["partitions"]
    return (
        described["error_code"] == 0
        and bool(partitions)
        and all(p["error_code"] == 0 and p["leader"] >= 0 for p in partitions)
    )
