"""Reading a topic to the end it had when the reading began."""

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.support.infra import Infra
from ucap_shared.topic_reading import TopicToItsEnd


async def made_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


class TestTopicToItsEnd:
    async def test_every_record_up_to_the_ends_and_none_written_after(
        self, infra: Infra, unique: str
    ) -> None:
        bootstrap, topic = infra.kafka_bootstrap_servers, f"reading-{unique}"
        await made_topic(bootstrap, topic, partitions=3)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for n in range(30):
                await producer.send_and_wait(topic, f"before-{n}".encode(), partition=n % 3)
            async with TopicToItsEnd(bootstrap, topic) as reading:
                for n in range(5):
                    await producer.send_and_wait(topic, f"after-{n}".encode(), partition=n % 3)
                values = [record.value async for record in reading.records()]
        finally:
            await producer.stop()

        assert reading.offsets == 30
        assert sorted(values) == sorted(f"before-{n}".encode() for n in range(30))
        for partition in range(3):
            in_partition = [v for v in values if int(v.split(b"-")[1]) % 3 == partition]
            assert in_partition == sorted(in_partition, key=lambda v: int(v.split(b"-")[1]))

    async def test_a_topic_that_does_not_exist_reads_as_empty(
        self, infra: Infra, unique: str
    ) -> None:
        async with TopicToItsEnd(infra.kafka_bootstrap_servers, f"absent-{unique}") as reading:
            values = [record async for record in reading.records()]

        assert values == []
        assert reading.partitions == []

    async def test_past_its_deadline_it_says_how_long_it_took(
        self, infra: Infra, unique: str
    ) -> None:
        bootstrap, topic = infra.kafka_bootstrap_servers, f"slow-{unique}"
        await made_topic(bootstrap, topic, partitions=1)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"one")
        finally:
            await producer.stop()

        async with TopicToItsEnd(bootstrap, topic, deadline_seconds=0) as reading:
            await asyncio.sleep(0.01)
            with pytest.raises(TimeoutError, match="took over 0s"):
                _ = [record async for record in reading.records()]
