"""The pilots service in-process against the real Kafka and MongoDB-protocol server.

Each test module gets its own app, database, consumer group and topic namespace
(``UCAP_TOPIC_NAMESPACE``): a fresh consumer group would otherwise replay every
pilot, city and MoU event any test ever published before reaching its own. Cities and
MoUs (and U-CAPs) are made known the way their services do it: by publishing
``ucap.city.registered.v1``, ``ucap.mou.drafted.v1`` (and ``ucap.ucap.created.v1``)
envelopes to their topics.

The module's client sends an admin token for the ``pilots`` audience, as the
gateway would; tests of other callers pass their own ``Authorization`` header.
"""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
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
from ucap_pilots.config import Settings
from ucap_pilots.main import create_app
from ucap_pilots.views import CITIES_VIEW, MOUS_VIEW, UCAPS_VIEW
from ucap_shared.app import ServiceRuntime
from ucap_shared.envelope import Envelope
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.topics import events_topic


def cities_topic() -> str:
    return events_topic("cities")


def mous_topic() -> str:
    return events_topic("mous")


def fresh_namespace() -> str:
    return f"test{uuid.uuid4().hex[:10]}"


def registered(city: str, name: str = "Somewhere", country: str = "CN") -> Envelope:
    return Envelope(
        source="ucap/cities",
        type="ucap.city.registered.v1",
        subject=city,
        sequence=1,
        data={
            "city_id": city,
            "name": name,
            "native_name": None,
            "region": None,
            "country": country,
            "world_region": "Asia",
            "population": {"known": False, "value": None, "year": None},
            "area_km2": None,
            "clusters": [],
        },
        actor="test",
    )


def drafted(mou: str, cities: list[str]) -> Envelope:
    return Envelope(
        source="ucap/mous",
        type="ucap.mou.drafted.v1",
        subject=mou,
        sequence=1,
        data={
            "mou_id": mou,
            "title": f"MoU {mou}",
            "subject": "Cooperation",
            "parties": [{"city_id": city, "stakeholder_ids": []} for city in cities],
            "themes": [],
            "valid_from": None,
            "valid_until": None,
            "documents": [],
        },
        actor="test",
    )


def ucap_created(ucap: str, lead: str, counterparts: list[str]) -> Envelope:
    return Envelope(
        source="ucap/reporting",
        type="ucap.ucap.created.v1",
        subject=ucap,
        sequence=1,
        data={
            "ucap_id": ucap,
            "title": f"U-CAP {ucap}",
            "lead_city_id": lead,
            "counterpart_city_ids": counterparts,
            "period": None,
            "themes": [],
            "sdgs": [],
            "urban_agenda_themes": [],
            "key_challenges": [],
            "main_objectives": [],
            "expected_results": None,
            "contact": None,
            "deliverables": [],
        },
        actor="test",
    )


async def publish(bootstrap: str, topic: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(topic, envelope.to_json(), key=envelope.record_key())
    finally:
        await producer.stop()


def pilots_settings(infra: Infra, name: str, **values: Any) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    return Settings.model_validate(
        {
            "database": f"test_pilots_{name}_{suffix}",
            "consumer_group": f"pilots-test-{name}-{suffix}",
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
            "MONGODB_URI": infra.mongodb_uri,
            **values,
        }
    )


@dataclass
class PilotsService:
    client: httpx.AsyncClient
    settings: Settings
    mongo: MongoClient
    app: FastAPI

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    async def version(self, pilot_id: str) -> int:
        """How many events the pilot has in the store (0: none)."""
        return await self.runtime.store.version(pilot_id)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap_servers

    async def known(self, collection: str, key: str, doc_id: str) -> bool:
        view = self.mongo[self.settings.database][collection]
        return await view.find_one({"_id": doc_id, key: True}) is not None

    async def register_cities(self, *names: str) -> list[str]:
        """Fresh cities, published on the cities topic; waits until this service knows them."""
        cities = [f"{name}{uuid.uuid4().hex[:8]}" for name in names]
        await publish(self.bootstrap, cities_topic(), *(registered(city) for city in cities))
        for city in cities:
            await eventually(partial(self.known, CITIES_VIEW, "registered", city), timeout=60)
        return cities

    async def draft_mou(self, cities: list[str]) -> str:
        mou = f"mou-{uuid.uuid4().hex[:10]}"
        await publish(self.bootstrap, mous_topic(), drafted(mou, cities))
        await eventually(partial(self.known, MOUS_VIEW, "drafted", mou), timeout=60)
        return mou

    async def create_ucap(self, lead: str, counterparts: list[str]) -> str:
        """A fresh U-CAP, published on reporting's topic; waits until this service knows it."""
        ucap = f"ucap-{uuid.uuid4().hex[:10]}"
        await publish(
            self.bootstrap, events_topic("reporting"), ucap_created(ucap, lead, counterparts)
        )
        await eventually(partial(self.known, UCAPS_VIEW, "created", ucap), timeout=60)
        return ucap

    async def propose(self, lead: str, partners: list[str], **fields: Any) -> httpx.Response:
        body = {
            "id": f"{lead}-pilot-{uuid.uuid4().hex[:8]}",
            "title": "A pilot",
            "description": "Something to try together",
            "lead_city_id": lead,
            "partners": [{"city_id": city, "role": "partner"} for city in partners],
            **fields,
        }
        return await self.client.post("/pilots", json=body)

    async def new_pilot(self, lead: str, partners: list[str], **fields: Any) -> str:
        response = await self.propose(lead, partners, **fields)
        assert response.status_code == 201, response.text
        pilot_id: str = response.json()["id"]
        return pilot_id

    async def history_types(self, pilot_id: str) -> list[str]:
        response = await self.client.get(f"/pilots/{pilot_id}/history")
        return [entry["type"] for entry in response.json()] if response.status_code == 200 else []


async def start_pilots(infra: Infra, name: str, **values: Any) -> AsyncIterator[PilotsService]:
    settings = pilots_settings(infra, name, **values)
    app = create_app(settings)
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://pilots", timeout=30, headers=bearer("pilots")
            ) as client:
                yield PilotsService(client=client, settings=settings, mongo=mongo, app=app)
    finally:
        await mongo.drop_database(settings.database)
        await mongo.close()


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    """Topics of the module's own, read at app start and at publishing."""
    before = os.environ.get("UCAP_TOPIC_NAMESPACE")
    os.environ["UCAP_TOPIC_NAMESPACE"] = name = fresh_namespace()
    try:
        yield name
    finally:
        if before is None:
            del os.environ["UCAP_TOPIC_NAMESPACE"]
        else:
            os.environ["UCAP_TOPIC_NAMESPACE"] = before


@pytest.fixture(scope="module")
async def pilots(infra: Infra, namespace: str) -> AsyncIterator[PilotsService]:
    # The shared guard's limit, set by its environment name (the field reads no other).
    async for service in start_pilots(infra, "api", UCAP_MAX_BODY_BYTES=64 * 1024):
        assert service.settings.max_body_bytes == 64 * 1024
        yield service


@pytest.fixture(scope="module")
async def cities(pilots: PilotsService) -> list[str]:
    """Four cities the module's service knows: a lead and three partners."""
    return await pilots.register_cities("granada", "kunming", "haikou", "liuzhou")
