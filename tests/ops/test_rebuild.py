"""``ucap rebuild SERVICE`` against real services: refuses while one runs, else rebuilds."""

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.ops.event_services import caught_up, city, clean_up, fresh_env
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import run_service, run_services
from tests.support.ucap_command import ucap
from tests.support.waiting import eventually
from ucap_mous.views import CITIES_VIEW, MOUS_VIEW, ORGANISATIONS_VIEW
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.topics import TopicSpec, ensure_topics

MOU = "granada-kunming"


@dataclass(frozen=True)
class Loaded:
    env: dict[str, str]
    database: str
    digest: str
    log_dir: Path


async def digest(mongo: MongoClient, database: str) -> str:
    """A hash of both MoUs-service views, document by document in id order."""
    documents = [
        await mongo[database][name].find().sort("_id", 1).to_list()
        for name in (MOUS_VIEW, CITIES_VIEW)
    ]
    return hashlib.sha256(json.dumps(documents, sort_keys=True, default=str).encode()).hexdigest()


@pytest.fixture(scope="module")
async def loaded(
    infra: Infra, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Loaded]:
    """Cities and an MoU written through the running services, which are then stopped."""
    env = fresh_env(service_env)
    log_dir = tmp_path_factory.mktemp("rebuild-logs")
    database = env["UCAP_MOUS_DATABASE"]
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        with run_services(("cities", "mous"), env, log_dir) as running:
            cities, mous = running["cities"], running["mous"]
            async with (
                httpx.AsyncClient(base_url=cities.url, headers=bearer("cities")) as to_cities,
                httpx.AsyncClient(base_url=mous.url, headers=bearer("mous")) as to_mous,
            ):
                for body in (city("granada", "Granada", "ES"), city("kunming", "Kunming")):
                    assert (await to_cities.post("/cities", json=body)).status_code == 201
                stakeholder = {"id": "ciba-town", "name": "Ciba Town", "kind": "company"}
                added = await to_cities.post("/cities/kunming/stakeholders", json=stakeholder)
                assert added.status_code == 201

                async def cities_known() -> bool:
                    known = await mongo[database][CITIES_VIEW].count_documents(
                        {"registered": True, "stakeholder_ids": "ciba-town"}
                    )
                    return known == 1

                await eventually(cities_known, timeout=60)
                mou = {
                    "id": MOU,
                    "title": "MoU Granada Kunming",
                    "subject": "Ciba Biotechnology Town",
                    "parties": [
                        {"city_id": "granada"},
                        {"city_id": "kunming", "stakeholder_ids": ["ciba-town"]},
                    ],
                    "themes": ["Life Sciences and Healthy City"],
                }
                assert (await to_mous.post("/mous", json=mou)).status_code == 201
                signature = {"city_id": "granada", "signed_on": "2018-09"}
                signed = await to_mous.post(f"/mous/{MOU}/signatures", json=signature)
                assert signed.status_code == 201
                await eventually(lambda: caught_up(to_mous), timeout=60)
        yield Loaded(env, database, await digest(mongo, database), log_dir)
    finally:
        await clean_up(env, mongo)
        await mongo.close()


class TestRebuildingAStoppedService:
    async def test_gives_back_the_same_views_and_says_what_it_replayed(
        self, loaded: Loaded, mongo: MongoClient
    ) -> None:
        await mongo[loaded.database][MOUS_VIEW].delete_many({})  # damage it: rebuild repairs

        result = ucap("rebuild", "mous", "--json", env=loaded.env)

        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["views"] == [MOUS_VIEW, CITIES_VIEW, ORGANISATIONS_VIEW]
        assert report["skipped"] == []
        # 2 MoU events from the store, 3 city events, and the 2 MoU events again from their
        # topic, where the views' guard finds them applied already.
        assert (report["replayed"], report["applied"]) == (7, 5)
        assert await digest(mongo, loaded.database) == loaded.digest
        assert "mous.events" in result.stderr  # the progress names each source

    async def test_keeps_the_time_of_the_newest_event_applied_per_topic(
        self, loaded: Loaded, mongo: MongoClient
    ) -> None:
        result = ucap("rebuild", "mous", env=loaded.env)

        assert result.returncode == 0, result.stderr
        assert "events replayed" in result.stdout
        positions = await mongo[loaded.database]["stream_positions"].find().to_list()
        assert {p["stream"] for p in positions} >= {"granada", "kunming", MOU}
        assert all("event_time" in p and "applied_at" in p for p in positions)


class TestRebuildRefuses:
    async def test_while_the_service_runs(self, loaded: Loaded, mongo: MongoClient) -> None:
        with run_service("mous", loaded.env, loaded.log_dir) as mous:
            async with httpx.AsyncClient(base_url=mous.url, headers=bearer("mous")) as client:
                await eventually(lambda: caught_up(client), timeout=60)

                result = ucap("rebuild", "mous", env=loaded.env)

        assert result.returncode == 1
        assert "active member" in result.stderr
        assert "Traceback" not in result.stderr
        assert await digest(mongo, loaded.database) == loaded.digest

    def test_a_service_that_keeps_no_views(self, loaded: Loaded) -> None:
        result = ucap("rebuild", "gateway", env=loaded.env)

        assert result.returncode == 2
        assert "'gateway' is not one of" in result.stderr


class TestRebuildReportsWhatItSkipped:
    async def test_a_record_that_is_no_event_fails_the_rebuild(
        self, infra: Infra, service_env: dict[str, str], mongo: MongoClient
    ) -> None:
        env = fresh_env(service_env)
        topic = f"{env['UCAP_TOPIC_NAMESPACE']}.cities.events"
        try:
            await ensure_topics(infra.kafka_bootstrap_servers, [TopicSpec(topic)])
            producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
            await producer.start()
            try:
                await producer.send_and_wait(topic, b"not an event", key=b"granada")
            finally:
                await producer.stop()

            result = ucap("rebuild", "mous", "--json", env=env)

            assert result.returncode == 1
            report = json.loads(result.stdout)
            [skipped] = report["skipped"]
            assert topic in skipped
            assert "not a ucap event envelope" in skipped
            assert "could not be applied" in result.stderr
        finally:
            await clean_up(env, mongo)
