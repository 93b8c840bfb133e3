"""Kafka connectivity shared by services, tools and tests."""

from aiokafka.client import AIOKafkaClient


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
