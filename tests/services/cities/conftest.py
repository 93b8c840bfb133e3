"""A cities service of the test's own: its own database, topic and consumer group.

The topic is named after the service (``ucap.<service_name>.events``), and the
service replays its own topic on rebuild, so tests give it a unique service
name: otherwise they would read each other's (and a running service's) events.
"""

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from tests.support.auth import bearer
from tests.support.infra import Infra
from ucap_cities.config import Settings
from ucap_cities.main import create_app
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.topics import dead_letter_topic, events_topic


@dataclass(frozen=True)
class Isolation:
    """Names that keep one test's cities service apart from every other."""

    service_name: str
    database: str

    @classmethod
    def new(cls) -> "Isolation":
        suffix = uuid.uuid4().hex[:10]
        return cls(service_name=f"cities-test-{suffix}", database=f"test_cities_{suffix}")

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        return {
            **base,
            "UCAP_CITIES_SERVICE_NAME": self.service_name,
            "UCAP_CITIES_DATABASE": self.database,
        }

    def settings(self, infra: Infra) -> Settings:
        return Settings.model_validate(
            {
                "service_name": self.service_name,
                "database": self.database,
                "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
                "MONGODB_URI": infra.mongodb_uri,
            }
        )


@dataclass
class CitiesService:
    client: httpx.AsyncClient
    app: FastAPI
    isolation: Isolation


@asynccontextmanager
async def in_process(infra: Infra, isolation: Isolation) -> AsyncIterator[CitiesService]:
    """The app with its lifespan running (relay and consumer included), called over ASGI.

    The client sends an admin token for the ``cities`` audience unless a request names
    another ``Authorization`` header.
    """
    app = create_app(isolation.settings(infra))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://cities", headers=bearer("cities")
        ) as client:
            yield CitiesService(client, app, isolation)


async def clean_up(infra: Infra, mongo: MongoClient, isolation: Isolation) -> None:
    await mongo.drop_database(isolation.database)
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
    await admin.start()
    try:
        topics = [events_topic(isolation.service_name), dead_letter_topic(isolation.service_name)]
        existing = set(await admin.list_topics())
        await admin.delete_topics([t for t in topics if t in existing])
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def cities(infra: Infra) -> AsyncIterator[CitiesService]:
    """One service per test module; tests in it use city ids of their own."""
    isolation = Isolation.new()
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        async with in_process(infra, isolation) as service:
            yield service
    finally:
        await clean_up(infra, mongo, isolation)
        await mongo.close()


def new_id(prefix: str = "city") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def city_body(city_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid registration request."""
    body: dict[str, Any] = {
        "id": city_id,
        "name": "Haikou",
        "native_name": "海口",
        "region": "Hainan",
        "country": "CN",
        "world_region": "Asia",
        "population": {"known": False},
        "clusters": ["Smart City"],
    }
    return {**body, **overrides}
