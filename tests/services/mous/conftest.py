"""The MoUs service in-process against the real Kafka and MongoDB-protocol server.

Each test module gets its own app, database and consumer group, so it reads
every city event on the topic itself and shares no view with another module.
Cities are made known the way the cities service does it: by publishing
``ucap.city.*`` envelopes to ``ucap.cities.events``. The client calls as an
admin (``bearer("mous")``) unless a request names other headers.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.waiting import eventually
from ucap_mous.config import Settings
from ucap_mous.main import create_app
from ucap_mous.views import CITIES_VIEW
from ucap_shared.envelope import Envelope
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.topics import events_topic

CITIES_TOPIC = events_topic("cities")
MOUS_TOPIC = events_topic("mous")


def city_id(name: str) -> str:
    """A city id no other test uses."""
    return f"{name}-{uuid.uuid4().hex[:10]}"


def city_event(city: str, sequence: int, type_: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        source="ucap/cities",
        type=type_,
        subject=city,
        sequence=sequence,
        data={"city_id": city, **data},
        actor="test",
    )


def registered(city: str, name: str = "Somewhere", country: str = "China") -> Envelope:
    return city_event(
        city,
        1,
        "ucap.city.registered.v1",
        {
            "name": name,
            "native_name": None,
            "region": None,
            "country": country,
            "world_region": "Asia",
            "population": {"known": False, "value": None, "year": None},
            "area_km2": None,
            "clusters": [],
        },
    )


def stakeholder_added(city: str, sequence: int, stakeholder_id: str) -> Envelope:
    stakeholder = {"stakeholder_id": stakeholder_id, "name": stakeholder_id, "kind": "company"}
    return city_event(
        city, sequence, "ucap.city.stakeholder_added.v1", {"stakeholder": {**stakeholder}}
    )


def mous_settings(infra: Infra, name: str, **values: Any) -> Settings:
    suffix = uuid.uuid4().hex[:10]
    return Settings.model_validate(
        {
            "database": f"test_mous_{name}_{suffix}",
            "consumer_group": f"mous-test-{name}-{suffix}",
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
            "MONGODB_URI": infra.mongodb_uri,
            **values,
        }
    )


@dataclass
class MousService:
    client: httpx.AsyncClient
    settings: Settings
    mongo: MongoClient
    app: FastAPI

    async def version(self, mou_id: str) -> int:
        """The MoU's version in the event store (0: no event)."""
        version: int = await self.app.state.runtime.store.version(mou_id)
        return version

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap_servers

    async def publish(self, *envelopes: Envelope) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            for envelope in envelopes:
                await producer.send_and_wait(
                    CITIES_TOPIC, envelope.to_json(), key=envelope.record_key()
                )
        finally:
            await producer.stop()

    async def city_known(self, city: str) -> bool:
        view = self.mongo[self.settings.database][CITIES_VIEW]
        return await view.find_one({"_id": city, "registered": True}) is not None

    async def register_cities(self, *names: str) -> list[str]:
        """Register fresh cities through the cities topic and wait until this service knows them."""
        cities = [city_id(name) for name in names]
        await self.publish(
            *(registered(city, name.title()) for city, name in zip(cities, names, strict=True))
        )
        for city in cities:
            await eventually(partial(self.city_known, city), timeout=60)
        return cities

    async def draft(self, mou_id: str, cities: list[str], **fields: Any) -> httpx.Response:
        body = {
            "id": mou_id,
            "title": f"MoU {mou_id}",
            "subject": "Cooperation",
            "parties": [{"city_id": city} for city in cities],
            **fields,
        }
        return await self.client.post("/mous", json=body)

    async def sign(
        self, mou_id: str, city: str, on: str = "2018-07", **fields: Any
    ) -> httpx.Response:
        body = {"city_id": city, "signed_on": on, **fields}
        return await self.client.post(f"/mous/{mou_id}/signatures", json=body)

    async def history_types(self, mou_id: str) -> list[str]:
        response = await self.client.get(f"/mous/{mou_id}/history")
        return [entry["type"] for entry in response.json()] if response.status_code == 200 else []


async def start_mous(infra: Infra, name: str, **values: Any) -> AsyncIterator[MousService]:
    settings = mous_settings(infra, name, **values)
    app = create_app(settings)
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://mous", headers=bearer("mous")
            ) as client:
                yield MousService(client=client, settings=settings, mongo=mongo, app=app)
    finally:
        await mongo.drop_database(settings.database)
        await mongo.close()


@pytest.fixture(scope="module")
async def mous(infra: Infra) -> AsyncIterator[MousService]:
    async for service in start_mous(infra, "api"):
        yield service


def unique_mou_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
