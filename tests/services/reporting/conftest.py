"""The reporting service in-process against the real Kafka and MongoDB-protocol server.

Other services' events are published the way those services publish them: as
envelopes on ``ucap.cities.events``, ``ucap.mous.events`` and
``ucap.pilots.events``, with ids no other test uses.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.waiting import eventually
from ucap_reporting.config import Settings
from ucap_reporting.main import create_app
from ucap_reporting.projections import CITIES_VIEW
from ucap_shared.envelope import Envelope
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.topics import events_topic

TOPICS = {"city": "cities", "organisation": "cities", "mou": "mous", "pilot": "pilots"}


def fresh(name: str) -> str:
    """An id no other test uses."""
    return f"{name}-{uuid.uuid4().hex[:10]}"


@dataclass
class Streams:
    """Envelopes of other services' events, each aggregate's sequence counted."""

    sequences: dict[str, int] = field(default_factory=dict)

    def event(self, kind: str, subject: str, type_: str, data: dict[str, Any]) -> Envelope:
        sequence = self.sequences.get(subject, 0) + 1
        self.sequences[subject] = sequence
        return Envelope(
            source=f"ucap/{TOPICS[kind]}",
            type=f"ucap.{kind}.{type_}.v1",
            subject=subject,
            sequence=sequence,
            data={f"{kind}_id": subject, **data},
            actor="test",
        )

    def city_registered(
        self, city: str, name: str, country: str = "CN", clusters: list[str] | None = None
    ) -> Envelope:
        return self.event(
            "city",
            city,
            "registered",
            {
                "name": name,
                "native_name": None,
                "region": None,
                "country": country,
                "world_region": "Asia" if country == "CN" else "Europe",
                "population": {"known": False, "value": None, "year": None},
                "area_km2": None,
                "clusters": clusters or [],
            },
        )

    def stakeholder_added(self, city: str, stakeholder: str, name: str) -> Envelope:
        return self.event(
            "city",
            city,
            "stakeholder_added",
            {
                "stakeholder": {
                    "stakeholder_id": stakeholder,
                    "name": name,
                    "kind": "university",
                    "website": None,
                }
            },
        )

    def organisation_registered(self, organisation: str, name: str) -> Envelope:
        """An organisation with no city, as contract A's cities service publishes it."""
        return self.event(
            "organisation",
            organisation,
            "registered",
            {
                "name": name,
                "native_name": None,
                "kind": "other",
                "scope": "international",
                "country": None,
                "website": "https://fund.example",
            },
        )

    def city_renamed(self, city: str, name: str) -> Envelope:
        return self.event("city", city, "profile_updated", {"name": name})

    def mou_drafted(self, mou: str, parties: list[str], valid_until: str | None = None) -> Envelope:
        return self.event(
            "mou",
            mou,
            "drafted",
            {
                "title": f"MoU {mou}",
                "subject": "Cooperation",
                "parties": [{"city_id": c, "stakeholder_ids": []} for c in parties],
                "themes": [],
                "valid_from": None,
                "valid_until": valid_until,
                "documents": [],
            },
        )

    def mou_signed(
        self, mou: str, city: str | None, on: str | None, organisation: str | None = None
    ) -> Envelope:
        """A signature; ``on`` None: its date is not known; ``organisation``: the party is
        that organisation (of ``city``, or with no city when ``city`` is None)."""
        return self.event(
            "mou",
            mou,
            "signed",
            {
                "city_id": city,
                "organisation_id": organisation,
                "signed_on": on,
                "place": "Brussels",
                "signatory": None,
                "occasion": None,
            },
        )

    def mou_drafted_between(self, mou: str, parties: list[dict[str, Any]]) -> Envelope:
        """A MoU whose parties are given whole (cities, their organisations, or others)."""
        return self.event(
            "mou",
            mou,
            "drafted",
            {
                "title": f"MoU {mou}",
                "subject": "Smart City Congress",
                "parties": parties,
                "themes": ["Smart City"],
                "valid_from": None,
                "valid_until": None,
                "documents": [],
            },
        )

    def indicator_added(self, pilot: str, indicator: str) -> Envelope:
        return self.event(
            "pilot",
            pilot,
            "indicator_added",
            {
                "indicator": {
                    "indicator_id": indicator,
                    "name": "Webinar participants",
                    "unit": "people",
                    "baseline": {"value": 0, "on": "2020-06"},
                    "target": {"value": 300, "on": "2020-11"},
                }
            },
        )

    def pilot_proposed(
        self, pilot: str, ucap: str | None, lead: str, partners: list[str], **fields: Any
    ) -> Envelope:
        return self.event(
            "pilot",
            pilot,
            "proposed",
            {
                "title": f"Pilot {pilot}",
                "description": "A pilot",
                "lead_city_id": lead,
                "partners": [{"city_id": lead, "role": "lead"}]
                + [{"city_id": c, "role": "partner"} for c in partners],
                "stakeholder_ids": [],
                "cluster": "Smart City",
                "themes": ["Smart City and Digital Transition"],
                "sdg_goals": [9, 11],
                "sdg_targets": [],
                "urban_agenda_themes": [],
                "mou_ids": [],
                "ucap_id": ucap,
                **fields,
            },
        )

    def pilot_status(self, pilot: str, type_: str, status: str, on: str | None) -> Envelope:
        return self.event(
            "pilot", pilot, type_, {"status": status, "effective_on": on, "note": None}
        )

    def pilot_progress(
        self,
        pilot: str,
        update_id: str,
        on: str,
        city: str,
        summary: str,
        values: dict[str, float] | None = None,
    ) -> Envelope:
        return self.event(
            "pilot",
            pilot,
            "progress_reported",
            {
                "update": {
                    "update_id": update_id,
                    "reported_on": on,
                    "reporting_city_id": city,
                    "summary": summary,
                    "indicator_values": [
                        {"indicator_id": k, "value": v} for k, v in (values or {}).items()
                    ],
                    "milestone_id": None,
                    "attachments": [],
                }
            },
        )

    def milestone_added(self, pilot: str, milestone: str, planned_on: str) -> Envelope:
        return self.event(
            "pilot",
            pilot,
            "milestone_added",
            {
                "milestone": {
                    "milestone_id": milestone,
                    "title": f"M {milestone}",
                    "planned_on": planned_on,
                }
            },
        )


async def publish(bootstrap: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            kind = envelope.type.split(".")[1]
            await producer.send_and_wait(
                events_topic(TOPICS[kind]), envelope.to_json(), key=envelope.record_key()
            )
    finally:
        await producer.stop()


SOURCE_TOPICS = [events_topic(s) for s in ("cities", "mous", "pilots", "reporting")]


async def start_group_at_end(bootstrap: str, group: str) -> None:
    """Commit the group's offsets at the topics' current ends.

    The shared topics hold every earlier test's events; a test's consumer group
    that starts at their end reads only what the test publishes (rebuild and
    ``as_of`` still read the topics from their beginning).
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in SOURCE_TOPICS
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if partitions:
            consumer.assign(partitions)
            await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


def reporting_settings(
    infra: Infra, name: str, *, own_topic: bool = False, overrides: dict[str, Any] | None = None
) -> Settings:
    """Settings of a test's own database and group; ``own_topic``: publish the U-CAP events
    to a topic of the test's own (``ucap.reporting-<name>-<suffix>.events``), so a test making
    many U-CAPs leaves the shared topic (which every rebuild replays) alone."""
    suffix = uuid.uuid4().hex[:10]
    return Settings.model_validate(
        {
            **({"service_name": f"reporting-{name}-{suffix}"} if own_topic else {}),
            "database": f"test_reporting_{name}_{suffix}",
            "consumer_group": f"reporting-test-{name}-{suffix}",
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
            "MONGODB_URI": infra.mongodb_uri,
            **(overrides or {}),
        }
    )


def ucap_body(ucap_id: str, lead: str, counterparts: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "id": ucap_id,
        "title": f"U-CAP {ucap_id}",
        "lead_city_id": lead,
        "counterpart_city_ids": counterparts,
        "period": {"from": "2018-06", "until": "2020-11"},
        "themes": [{"title": "Smart City and Digital Transition", "key_focus": "Smart city"}],
        "sdgs": [9, 11],
        "urban_agenda_themes": ["Digital Transition"],
        **fields,
    }


@dataclass
class ReportingService:
    client: httpx.AsyncClient
    settings: Settings
    mongo: MongoClient
    streams: Streams = field(default_factory=Streams)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap_servers

    async def publish(self, *envelopes: Envelope) -> None:
        await publish(self.bootstrap, *envelopes)

    async def status(self, ucap_id: str, **params: str) -> dict[str, Any]:
        response = await self.client.get(f"/ucaps/{ucap_id}/status", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_status(
        self, ucap_id: str, condition: Any, timeout: float = 60
    ) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            body = await self.status(ucap_id)
            return body if condition(body) else None

        return await eventually(probe, timeout=timeout, interval=0.2)

    async def city_known(self, city: str) -> bool:
        found = await self.mongo[self.settings.database][CITIES_VIEW].find_one(
            {"_id": city, "registered": True}
        )
        return found is not None

    async def register(self, *cities: str) -> None:
        """The cities registered in this service's copy, as a U-CAP must name them: each not
        published yet by ``streams`` is published as registered; then waits for all."""
        new = [city for city in dict.fromkeys(cities) if city not in self.streams.sequences]
        if new:
            await self.publish(*(self.streams.city_registered(city, city.title()) for city in new))
        for city in cities:
            await eventually(partial(self.city_known, city), timeout=60, interval=0.1)

    async def create(self, ucap_id: str, lead: str, counterparts: list[str], **fields: Any) -> None:
        await self.register(lead, *counterparts)
        response = await self.client.post(
            "/ucaps", json=ucap_body(ucap_id, lead, counterparts, **fields)
        )
        assert response.status_code == 201, response.text


async def start_reporting(
    infra: Infra, name: str, *, own_topic: bool = False, overrides: dict[str, Any] | None = None
) -> AsyncIterator[ReportingService]:
    settings = reporting_settings(infra, name, own_topic=own_topic, overrides=overrides)
    await start_group_at_end(settings.kafka_bootstrap_servers, settings.group)
    app = create_app(settings)
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://reporting", headers=bearer("reporting")
            ) as client:
                yield ReportingService(client=client, settings=settings, mongo=mongo)
    finally:
        await mongo.drop_database(settings.database)
        await mongo.close()


@pytest.fixture(scope="module")
async def reporting(infra: Infra) -> AsyncIterator[ReportingService]:
    async for service in start_reporting(infra, "api"):
        yield service
