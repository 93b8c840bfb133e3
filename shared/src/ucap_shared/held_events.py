"""Events that arrived after a gap in their stream, held until the missing one is applied.

One document per held event in ``held_events``, found by group, topic, stream and
sequence: the event that completes a stream finds the one waiting after it.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from ucap_shared.dead_lettering import Origin
from ucap_shared.envelope import Envelope

log = logging.getLogger("ucap_shared.consumer")


class HeldEvents:
    def __init__(self, collection: AsyncCollection[dict[str, Any]], group: str) -> None:
        self._collection = collection
        self._group = group

    async def create_indexes(self) -> None:
        await self._collection.create_index(
            [("group", ASCENDING), ("stream", ASCENDING), ("sequence", ASCENDING)]
        )

    async def hold(self, origin: Origin, envelope: Envelope, reason: str) -> None:
        await self._collection.replace_one(
            {"_id": f"{self._group}:{envelope.id}"},
            {
                "group": self._group,
                "topic": origin.topic,
                "partition": origin.partition,
                "offset": origin.offset,
                "stream": envelope.subject,
                "sequence": envelope.sequence,
                "event": envelope.to_json().decode(),
                "reason": reason,
                "held_at": datetime.now(UTC),
            },
            upsert=True,
        )
        log.warning("event held back after a gap", extra={"reason": reason, "type": envelope.type})

    async def count(self, topic: str) -> int:
        return await self._collection.count_documents({"group": self._group, "topic": topic})

    async def waiting_after(self, topic: str, applied: Envelope) -> dict[str, Any] | None:
        """The held event that follows ``applied`` in its stream, if one is held."""
        return await self._collection.find_one(
            {
                "group": self._group,
                "topic": topic,
                "stream": applied.subject,
                "sequence": applied.sequence + 1,
            }
        )

    async def release(self, waiting: dict[str, Any]) -> tuple[Envelope, Origin]:
        """No longer held: the event and where it first came from."""
        await self._collection.delete_one({"_id": waiting["_id"]})
        envelope = Envelope.from_json(waiting["event"])
        origin = Origin(
            topic=waiting["topic"],
            partition=waiting.get("partition", -1),
            offset=waiting.get("offset", -1),
            key=envelope.record_key(),
            value=waiting["event"].encode(),
            headers=envelope.record_headers(),
        )
        return envelope, origin
