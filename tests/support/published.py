"""What a service has published: its events topic's records, counted per aggregate.

A service appends to its event store and its relay publishes every stored event
to the service's events topic, keyed by the aggregate's id (the envelope's
subject). Once the store's backlog is empty, every stored event of an aggregate
is on the topic, so the count there must equal the aggregate's version in the
store: one more record is an event published without being kept, one fewer an
event kept but never published.
"""

from collections import Counter
from dataclasses import dataclass

from tests.support.kafka_reading import read_topic
from tests.support.waiting import eventually
from ucap_shared.app import ServiceRuntime
from ucap_shared.eventstore import EventStore


@dataclass(frozen=True)
class Outbox:
    """A service's event store and the topic its relay publishes the store's events to."""

    store: EventStore
    topic: str
    bootstrap_servers: str

    @classmethod
    def of(cls, runtime: ServiceRuntime) -> "Outbox":
        """The outbox of an in-process app's runtime (``app.state.runtime``)."""
        topic = runtime.relay.topic if runtime.relay is not None else runtime.own_topic
        return cls(runtime.store, topic, runtime.settings.kafka_bootstrap_servers)


async def published(outbox: Outbox, *, timeout: float = 30) -> Counter[str]:
    """How many records the topic holds per aggregate id, once the relay has caught up."""

    async def relayed_everything() -> bool:
        return await outbox.store.backlog() == 0

    await eventually(relayed_everything, timeout=timeout)
    records = await read_topic(outbox.bootstrap_servers, outbox.topic)
    return Counter(record.key.decode() for record in records if record.key is not None)


async def published_count(outbox: Outbox, aggregate_id: str, *, timeout: float = 30) -> int:
    """How many records the topic holds for ``aggregate_id`` (0: none)."""
    return (await published(outbox, timeout=timeout))[aggregate_id]
