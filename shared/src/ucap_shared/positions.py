"""How far a consumer group has read each stream (aggregate) of each topic.

The consumer checks an event's sequence against this before applying it: at or
below is a duplicate, more than one above is a gap. Every event advances it,
including those of types no handler of the group reads.
"""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection


class StreamPositions:
    def __init__(self, collection: AsyncCollection[dict[str, Any]], group: str) -> None:
        self._collection = collection
        self.group = group

    def _key(self, topic: str, stream: str) -> str:
        return f"{self.group}|{topic}|{stream}"

    async def last(self, topic: str, stream: str) -> int:
        found = await self._collection.find_one({"_id": self._key(topic, stream)})
        return int(found["sequence"]) if found else 0

    async def advance(self, topic: str, stream: str, sequence: int) -> None:
        await self._collection.update_one(
            {"_id": self._key(topic, stream)},
            {"$set": {"group": self.group, "topic": topic, "stream": stream, "sequence": sequence}},
            upsert=True,
        )
