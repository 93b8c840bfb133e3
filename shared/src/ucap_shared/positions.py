"""How far a consumer group has read each stream (aggregate) of each topic.

The consumer checks an event's sequence against this before applying it: at or
below is a duplicate, more than one above is a gap. Every event advances it,
including those of types no handler of the group reads. Each position also
keeps when it last moved and the time of the event that moved it, so an
operator can tell how fresh a group's views are with each topic. A topic whose
handlers guard themselves (a service's own) keeps only that, in one position
(``WHOLE_TOPIC``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from ucap_shared.mongo import update_in_commands


@dataclass(frozen=True)
class TopicPosition:
    """The newest event a group applied from one topic, and when it applied one last."""

    last_event_time: datetime | None
    last_applied_at: datetime | None


WHOLE_TOPIC = ""
"""The stream of a topic whose handlers guard themselves (``Handlers.guard_themselves``):
its position says only how fresh the group is with the topic."""


class StreamPositions:
    def __init__(self, collection: AsyncCollection[dict[str, Any]], group: str) -> None:
        self._collection = collection
        self.group = group

    def _key(self, topic: str, stream: str) -> str:
        return f"{self.group}|{topic}|{stream}"

    async def last(self, topic: str, stream: str) -> int:
        found = await self._collection.find_one({"_id": self._key(topic, stream)})
        return int(found["sequence"]) if found else 0

    async def advance(
        self, topic: str, stream: str, sequence: int, *, event_time: datetime | None = None
    ) -> None:
        await self.advance_all([(topic, stream, sequence, event_time)])

    async def advance_all(self, moved: Sequence[tuple[str, str, int, datetime | None]]) -> None:
        """Several positions (topic, stream, sequence, event time), in as few commands as
        the server takes safely: a consumer's batch may move hundreds of streams."""
        if not moved:
            return
        now = datetime.now(UTC)
        writes = []
        for topic, stream, sequence, event_time in moved:
            fields: dict[str, Any] = {
                "group": self.group,
                "topic": topic,
                "stream": stream,
                "sequence": sequence,
                "applied_at": now,
            }
            if event_time is not None:
                fields["event_time"] = event_time
            writes.append(
                UpdateOne({"_id": self._key(topic, stream)}, {"$set": fields}, upsert=True)
            )
        await update_in_commands(self._collection, writes)

    async def newest(self, topic: str) -> TopicPosition:
        """Across the topic's streams; positions written before times were kept have none."""
        where = {"group": self.group, "topic": topic}
        by_event = await self._collection.find_one(
            {**where, "event_time": {"$exists": True}}, sort=[("event_time", DESCENDING)]
        )
        by_apply = await self._collection.find_one(
            {**where, "applied_at": {"$exists": True}}, sort=[("applied_at", DESCENDING)]
        )
        return TopicPosition(
            last_event_time=by_event["event_time"] if by_event else None,
            last_applied_at=by_apply["applied_at"] if by_apply else None,
        )
