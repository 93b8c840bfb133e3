"""The scale run's fencing check (``tests.support.scale_run.fencing``) on a real topic.

It must tell two relays publishing at once (an older lease epoch after a newer one in
a partition) from an event a successor published again (epochs in order).
"""

from aiokafka import AIOKafkaProducer

from tests.support.infra import Infra
from tests.support.scale_run import Fencing, fencing
from ucap_shared.envelope import Envelope
from ucap_shared.relay import LEASE_EPOCH_HEADER
from ucap_shared.topics import TopicSpec, ensure_topics


async def publish(bootstrap: str, topic: str, records: list[tuple[str, int, int | None]]) -> None:
    """Each (aggregate, version, epoch) to partition 0, in this order; None: no epoch."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for subject, version, epoch in records:
            event = Envelope(
                source="ucap/tally",
                type="ucap.tally.counted.v1",
                subject=subject,
                sequence=version,
                data={},
                actor="test",
            )
            headers = [] if epoch is None else [(LEASE_EPOCH_HEADER, str(epoch).encode())]
            await producer.send_and_wait(
                topic, event.to_json(), key=subject.encode(), partition=0, headers=headers
            )
    finally:
        await producer.stop()


async def fencing_of(
    infra: Infra, unique: str, records: list[tuple[str, int, int | None]]
) -> tuple[str, Fencing]:
    """A topic of one partition holding ``records`` (subject, version, epoch), in order,
    and what the fencing check finds in it."""
    topic = f"ucap.test-fencing-{unique}.events"
    await ensure_topics(infra.kafka_bootstrap_servers, [TopicSpec(topic, partitions=1)])
    await publish(infra.kafka_bootstrap_servers, topic, records)
    return topic, await fencing(infra.kafka_bootstrap_servers, [topic])


async def test_an_event_published_again_under_a_later_epoch_is_counted_not_failed(
    infra: Infra, unique: str
) -> None:
    topic, found = await fencing_of(
        infra, unique, [("a", 1, 1), ("a", 2, 1), ("a", 2, 2), ("a", 3, 2), ("b", 1, 2)]
    )

    assert found.problems == []
    assert found.republished == [f"{topic}: a v2 under epochs 1, 2"]


async def test_an_older_epoch_after_a_newer_one_is_two_relays_at_once(
    infra: Infra, unique: str
) -> None:
    topic, found = await fencing_of(
        infra, unique, [("a", 1, 2), ("b", 1, 3), ("a", 2, 2), ("c", 1, None)]
    )

    assert found.problems == [
        f"{topic}[0]@2 a v2: published under epoch 2 after epoch 3 (two relays at once)",
        f"{topic}[0]@3 c v1: no lease epoch",
    ]
    assert found.republished == []
