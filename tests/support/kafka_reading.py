"""Reading a topic from its beginning to its current end, for assertions."""

from ucap_shared.topic_reading import Record, TopicToItsEnd


async def read_topic(bootstrap: str, topic: str) -> list[Record]:
    async with TopicToItsEnd(bootstrap, topic, deadline_seconds=60) as reading:
        return [record async for record in reading.records()]
