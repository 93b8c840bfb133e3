"""What the tests of ``ucap rebuild``, ``ucap dlq`` and ``ucap lag`` share.

The command runs as a process (``python -m ucap_ops``) with the same
environment as the services it acts on: their databases, consumer groups and
topic namespace, all of the test's own.
"""

import uuid
from collections.abc import Mapping
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.stack import SERVICES, isolated_env
from ucap_shared.mongo import MongoClient


def fresh_env(base: Mapping[str, str]) -> dict[str, str]:
    """Databases, consumer groups and a topic namespace no other test uses."""
    return isolated_env(base, f"ops{uuid.uuid4().hex[:8]}")


async def clean_up(env: Mapping[str, str], mongo: MongoClient) -> None:
    for name in (*SERVICES, "gateway"):
        await mongo.drop_database(env[f"UCAP_{name.upper()}_DATABASE"])
    admin = AIOKafkaAdminClient(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    await admin.start()
    try:
        prefix = f"{env['UCAP_TOPIC_NAMESPACE']}."
        ours = [topic for topic in await admin.list_topics() if topic.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


def city(city_id: str, name: str, country: str = "CN") -> dict[str, Any]:
    """A city to register with the cities service."""
    return {
        "id": city_id,
        "name": name,
        "country": country,
        "world_region": "Europe" if country == "ES" else "Asia",
        "population": {"known": False},
    }


async def caught_up(client: httpx.AsyncClient) -> bool:
    """The service has published all it stored and its consumer is at the end of every topic."""
    relay = (await client.get("/ops/relay")).json()
    freshness = (await client.get("/ops/freshness")).json()
    return (
        relay["backlog"] == 0 and bool(freshness) and all(topic["lag"] == 0 for topic in freshness)
    )
