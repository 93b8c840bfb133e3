"""The broker the tests run against is a real Kafka: produce, consume, commit."""

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.support.infra import Infra


class TestKafkaRoundTrip:
    async def test_a_consumer_group_reads_back_what_was_produced_and_commits(
        self, infra: Infra, unique: str
    ) -> None:
        topic, group = f"smoke-{unique}", f"smoke-group-{unique}"
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        finally:
            await admin.close()

        producer = AIOKafkaProducer(
            bootstrap_servers=infra.kafka_bootstrap_servers, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            for n in range(3):
                await producer.send_and_wait(topic, f"message {n}".encode(), key=b"k")
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=infra.kafka_bootstrap_servers,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            received: list[bytes] = []
            while len(received) < 3:
                batches = await consumer.getmany(timeout_ms=10_000)
                assert batches, "no message within 10 s"
                received += [m.value for records in batches.values() for m in records if m.value]
            await consumer.commit()
            committed = await consumer.committed(TopicPartition(topic, 0))
        finally:
            await consumer.stop()

        assert received == [b"message 0", b"message 1", b"message 2"]
        assert committed == 3
