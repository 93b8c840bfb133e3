"""Kafka connectivity shared by services, tools and tests, and the one record size limit."""

from aiokafka.client import AIOKafkaClient

MAX_RECORD_BYTES = 1024 * 1024
"""The largest record (with its batch header) ucap lets Kafka carry: 1 MiB.

The relay's producer (``max_request_size``), every topic ucap creates
(``max.message.bytes``) and the local broker (``message.max.bytes``) are all set
to it, so a record is refused in one place, the producer, before anything is
sent, never half-way by a broker that allows less than the producer did. It is
Kafka's own default, so a cluster left at its defaults agrees (a broker's
default is 12 bytes more, a legacy overhead); and four times the largest event
an append takes (``ucap_shared.bounds.MAX_EVENT_BYTES``, 256 KiB), which leaves
room for the envelope, its headers and older events written before that bound.
A record over it anyway is parked by the relay (``ucap parked list``), not retried
forever.
"""


async def ping_kafka(bootstrap_servers: str, *, timeout_ms: int = 2000) -> None:
    """Return once a broker answers a metadata request; raise otherwise."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=timeout_ms,
        connections_max_idle_ms=timeout_ms * 5,
    )
    try:
        await client.bootstrap()
    finally:
        await client.close()
