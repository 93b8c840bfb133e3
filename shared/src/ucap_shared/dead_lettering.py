"""A record that cannot be applied goes to the dead-letter topic, with where it came from
and why, so that its partition keeps moving."""

import logging
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord

from ucap_shared.dispatch import Result, UnusableRecord
from ucap_shared.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED

log = logging.getLogger("ucap_shared.consumer")

DLQ_HEADERS = (
    "dlq_original_topic",
    "dlq_original_partition",
    "dlq_original_offset",
    "dlq_consumer_group",
    "dlq_error_kind",
    "dlq_error",
    "dlq_failed_at",
)


@dataclass(frozen=True)
class Origin:
    """Where a record came from, for its dead-letter headers."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> "Origin":
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=list(record.headers or ()),
        )


async def dead_letter(
    producer: AIOKafkaProducer, topic: str, group: str, origin: Origin, error: Exception
) -> Result:
    """Send the record as it came, its origin and the error in ``dlq_`` headers."""
    kind = error.kind if isinstance(error, UnusableRecord) else "handler_failed"
    detail = (
        str(error)
        if isinstance(error, UnusableRecord)
        else "".join(traceback.format_exception_only(error)).strip()
    )
    headers = [
        *origin.headers,
        ("dlq_original_topic", origin.topic.encode()),
        ("dlq_original_partition", str(origin.partition).encode()),
        ("dlq_original_offset", str(origin.offset).encode()),
        ("dlq_consumer_group", group.encode()),
        ("dlq_error_kind", kind.encode()),
        ("dlq_error", detail[:4000].encode()),
        ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    await producer.send_and_wait(topic, origin.value, key=origin.key, headers=headers)
    EVENTS_DEAD_LETTERED.labels(group, origin.topic).inc()
    EVENTS_CONSUMED.labels(group, origin.topic, Result.DEAD_LETTERED.value).inc()
    log.error(
        "record dead-lettered",
        extra={
            "topic": origin.topic,
            "partition": origin.partition,
            "offset": origin.offset,
            "kind": kind,
            "error": detail[:500],
        },
    )
    return Result.DEAD_LETTERED
