"""Dead-lettered records: read from each service's dead-letter topic, replayed, marked.

A record's id is ``<service>:<partition>:<offset>``, its place in the
service's dead-letter topic. Kafka records cannot be changed, so what has been
replayed is kept in the service's own database (``dead_letter_replays``),
one document per record id.

A replay produces the record again to the topic it came from, with its key,
value and original headers, plus ``dlq_replay_of`` naming the dead-letter
record. The consumer that failed never advanced past that event, so it applies
it now; every other group on the topic has, and skips it as a duplicate.
A record dead-lettered before events were published in structured mode carries
``ce_type`` and ``ce_id`` headers and no ``content-type``; it goes back with the
headers every event record has now (``ucap_shared.envelope``), since a
CloudEvents reader takes any ``ce_`` header for binary mode.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo.asynchronous.collection import AsyncCollection

from ucap_ops.backbone import CommandError
from ucap_ops.kafka_admin import Record, read_record, read_topic
from ucap_ops.targets import SERVICES
from ucap_shared.envelope import STRUCTURED_CONTENT_TYPE
from ucap_shared.sampled_gauges import DEAD_LETTER_REPLAYS
from ucap_shared.topics import dead_letter_topic

REPLAYS = DEAD_LETTER_REPLAYS
REPLAY_HEADER = "dlq_replay_of"
DLQ_HEADER_PREFIX = "dlq_"
BINARY_MODE_HEADER_PREFIX = "ce_"
CONTENT_TYPE_HEADER = "content-type"


@dataclass(frozen=True)
class LetterId:
    service: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.service}:{self.partition}:{self.offset}"

    @classmethod
    def parse(cls, text: str) -> "LetterId":
        service, _, place = text.partition(":")
        partition, _, offset = place.partition(":")
        if service not in SERVICES or not partition.isdigit() or not offset.isdigit():
            raise CommandError(
                f"{text!r} is not a dead-letter id (<service>:<partition>:<offset>, "
                f"service one of {', '.join(SERVICES)})"
            )
        return cls(service, int(partition), int(offset))


@dataclass(frozen=True)
class Replay:
    """That (and when, by whom, where to) a dead-lettered record was replayed."""

    replayed_at: datetime
    replayed_by: str
    topic: str
    partition: int
    offset: int
    times: int

    def as_json(self) -> dict[str, Any]:
        return {
            "replayed_at": self.replayed_at.isoformat(),
            "replayed_by": self.replayed_by,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "times": self.times,
        }


@dataclass(frozen=True)
class DeadLetter:
    id: LetterId
    record: Record
    replay: Replay | None = None

    def header(self, name: str) -> str | None:
        """The header's last value (a record dead-lettered twice may carry it twice)."""
        values = [value for key, value in self.record.headers or () if key == name]
        return values[-1].decode(errors="replace") if values else None

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k, v.decode(errors="replace")) for k, v in self.record.headers or ()]

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the record had on its own topic, before it was dead-lettered."""
        return [(k, v) for k, v in self.record.headers or () if not k.startswith(DLQ_HEADER_PREFIX)]

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The original headers as an event record has them now: structured mode's
        ``content-type``, no ``ce_`` header, every other one (``traceparent``, say) kept."""
        kept = [
            (k, v)
            for k, v in self.original_headers()
            if not k.startswith(BINARY_MODE_HEADER_PREFIX) and k != CONTENT_TYPE_HEADER
        ]
        return [(CONTENT_TYPE_HEADER, STRUCTURED_CONTENT_TYPE.encode()), *kept]

    @property
    def event_id(self) -> str | None:
        event = self.event()
        fields = event if isinstance(event, dict) else {}
        return self.header("ce_id") or _text(fields.get("id"))

    def event(self) -> object:
        """The record's value: the event as JSON, or its text when it is not JSON."""
        value = self.record.value
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return value.decode(errors="replace")

    @property
    def original_topic(self) -> str | None:
        return self.header("dlq_original_topic")

    @property
    def original_partition(self) -> int | None:
        text = self.header("dlq_original_partition")
        return int(text) if text and text.lstrip("-").isdigit() else None

    def summary(self) -> dict[str, Any]:
        event = self.event()
        fields = event if isinstance(event, dict) else {}
        key = self.record.key.decode(errors="replace") if self.record.key else None
        return {
            "id": str(self.id),
            "service": self.id.service,
            "type": self.header("ce_type") or fields.get("type"),
            "subject": fields.get("subject") or key,
            # The aggregate's version, under its name of before ``aggregateversion`` too.
            "sequence": fields.get("aggregateversion", fields.get("sequence")),
            "event_id": self.event_id,
            "original_topic": self.original_topic,
            "original_partition": self.original_partition,
            "original_offset": self.header("dlq_original_offset"),
            "consumer_group": self.header("dlq_consumer_group"),
            "error_kind": self.header("dlq_error_kind"),
            "error": self.header("dlq_error"),
            "failed_at": self.header("dlq_failed_at"),
            "replay_of": self.header(REPLAY_HEADER),
            "replayed": self.replay is not None,
            "replay": self.replay.as_json() if self.replay else None,
        }

    def whole(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "dlq_topic": self.record.topic,
            "key": self.record.key.decode(errors="replace") if self.record.key else None,
            "timestamp": datetime.fromtimestamp(self.record.timestamp / 1000, UTC).isoformat(),
            "headers": dict(self.headers),
            "event": self.event(),
        }


class ReplayLog:
    """The ``dead_letter_replays`` collection of one service's database."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def of(self, ids: list[LetterId]) -> dict[str, Replay]:
        found = self._collection.find({"_id": {"$in": [str(i) for i in ids]}})
        return {document["_id"]: _replay_of(document) async for document in found}

    async def record(
        self, letter: DeadLetter, by: str, topic: str, partition: int, offset: int
    ) -> None:
        await self._collection.update_one(
            {"_id": str(letter.id)},
            {
                "$set": {
                    "replayed_at": datetime.now(UTC),
                    "replayed_by": by,
                    "topic": topic,
                    "partition": partition,
                    "offset": offset,
                    "event_id": letter.event_id,
                    "error": letter.header("dlq_error"),
                },
                "$inc": {"times": 1},
            },
            upsert=True,
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _replay_of(document: dict[str, Any]) -> Replay:
    return Replay(
        replayed_at=document["replayed_at"],
        replayed_by=document["replayed_by"],
        topic=document["topic"],
        partition=document["partition"],
        offset=document["offset"],
        times=document.get("times", 1),
    )


async def read_letters(bootstrap: str, service: str, log: ReplayLog) -> list[DeadLetter]:
    """Every record of the service's dead-letter topic, oldest first per partition."""
    records = await read_topic(bootstrap, dead_letter_topic(service))
    ids = [LetterId(service, r.partition, r.offset) for r in records]
    replays = await log.of(ids)
    return [
        DeadLetter(letter_id, record, replays.get(str(letter_id)))
        for letter_id, record in sorted(zip(ids, records, strict=True), key=_place)
    ]


def _place(pair: tuple[LetterId, Record]) -> tuple[int, int, int]:
    """When it was dead-lettered, then where: the order an operator reads them in."""
    letter_id, record = pair
    return record.timestamp, letter_id.partition, letter_id.offset


async def read_letter(bootstrap: str, letter_id: LetterId, log: ReplayLog) -> DeadLetter:
    topic = dead_letter_topic(letter_id.service)
    record = await read_record(bootstrap, topic, letter_id.partition, letter_id.offset)
    if record is None:
        raise CommandError(f"no dead-lettered record {letter_id} (nothing there in {topic})")
    replays = await log.of([letter_id])
    return DeadLetter(letter_id, record, replays.get(str(letter_id)))


async def send_back(producer: AIOKafkaProducer, letter: DeadLetter) -> tuple[str, int, int]:
    """Produce the record to its original topic; where it landed (topic, partition, offset)."""
    topic = letter.original_topic
    if not topic:
        raise CommandError(f"{letter.id} names no original topic (dlq_original_topic)")
    partition = letter.original_partition
    if partition is not None and partition not in await producer.partitions_for(topic):
        partition = None  # the key then picks it, as it did the first time
    metadata = await producer.send_and_wait(
        topic,
        letter.record.value,
        key=letter.record.key,
        partition=partition,
        headers=[*letter.replay_headers(), (REPLAY_HEADER, str(letter.id).encode())],
    )
    return topic, metadata.partition, metadata.offset
