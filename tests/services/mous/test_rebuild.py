"""``python -m ucap_mous rebuild`` gives back the views the running service built."""

import asyncio
import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from tests.services.mous.conftest import CITIES_TOPIC, city_id, registered, stakeholder_added
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, run_service
from tests.support.waiting import eventually
from ucap_mous.views import CITIES_VIEW, MOUS_VIEW
from ucap_shared.envelope import Envelope
from ucap_shared.mongo import MongoClient


async def publish(bootstrap: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                CITIES_TOPIC, envelope.to_json(), key=envelope.record_key()
            )
    finally:
        await producer.stop()


async def digest(mongo: MongoClient, database: str, collection: str, ids: set[str] | None) -> str:
    """A hash of the collection's documents (only ``ids`` if given), in id order."""
    query: dict[str, Any] = {"_id": {"$in": sorted(ids)}} if ids is not None else {}
    documents = await mongo[database][collection].find(query).sort("_id", 1).to_list()
    return hashlib.sha256(json.dumps(documents, sort_keys=True, default=str).encode()).hexdigest()


async def caught_up(client: httpx.AsyncClient) -> bool:
    relay = (await client.get("/ops/relay")).json()
    freshness = (await client.get("/ops/freshness")).json()
    return relay["backlog"] == 0 and all(topic["lag"] == 0 for topic in freshness)


class TestRebuild:
    async def test_rebuilding_with_the_service_stopped_gives_back_the_same_views(
        self, infra: Infra, service_env: dict[str, str], log_dir: Path, mongo: MongoClient
    ) -> None:
        suffix = uuid.uuid4().hex[:10]
        database = f"test_mous_rebuild_{suffix}"
        env = {
            **service_env,
            "UCAP_MOUS_DATABASE": database,
            "UCAP_MOUS_CONSUMER_GROUP": f"mous-test-rebuild-{suffix}",
        }
        granada, kunming, haikou = city_id("granada"), city_id("kunming"), city_id("haikou")
        try:
            with run_service("mous", env, log_dir) as service:
                async with httpx.AsyncClient(
                    base_url=service.url, timeout=10, headers=bearer("mous")
                ) as client:
                    await publish(
                        infra.kafka_bootstrap_servers,
                        registered(granada, "Granada", "Spain"),
                        registered(kunming, "Kunming"),
                        registered(haikou, "Haikou"),
                        stakeholder_added(kunming, 2, "ciba-town"),
                    )

                    async def cities_known() -> bool:
                        view = mongo[database][CITIES_VIEW]
                        known = await view.count_documents(
                            {"registered": True, "_id": {"$in": [granada, kunming, haikou]}}
                        )
                        with_stakeholder = await view.count_documents(
                            {"_id": kunming, "stakeholder_ids": "ciba-town"}
                        )
                        return known == 3 and with_stakeholder == 1

                    await eventually(cities_known, timeout=60)
                    mou_id = f"granada-kunming-{suffix}"
                    writes = [
                        (
                            "/mous",
                            {
                                "id": mou_id,
                                "title": "MoU Granada Kunming",
                                "subject": "Ciba Biotechnology Town project",
                                "parties": [
                                    {"city_id": granada},
                                    {"city_id": kunming, "stakeholder_ids": ["ciba-town"]},
                                ],
                                "themes": ["Life Sciences and Healthy City"],
                            },
                        ),
                        (f"/mous/{mou_id}/parties", {"city_id": haikou}),
                        (
                            f"/mous/{mou_id}/signatures",
                            {"city_id": granada, "signed_on": "2018-09"},
                        ),
                        (f"/mous/{mou_id}/amendments", {"amended_on": "2019", "summary": "More"}),
                        (
                            f"/mous/{mou_id}/termination",
                            {"terminated_on": "2020", "reason": "Done"},
                        ),
                    ]
                    for path, body in writes:
                        assert (await client.post(path, json=body)).status_code == 201
                    await eventually(lambda: caught_up(client), timeout=60)

            cities = {granada, kunming, haikou}
            before = [
                await digest(mongo, database, MOUS_VIEW, None),
                await digest(mongo, database, CITIES_VIEW, cities),
            ]
            assert await mongo[database][MOUS_VIEW].find_one({"_id": mou_id}) is not None

            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "ucap_mous",
                "rebuild",
                env=env,
                cwd=REPO_ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output = (await asyncio.wait_for(process.communicate(), 120))[0].decode()

            assert "rebuilt in" in output, output
            # Other people's records on the shared cities topic may be skipped; never ours.
            skipped = [line for line in output.splitlines() if "skipped" in line]
            assert not [line for line in skipped if suffix in line or "granada-" in line], output
            after = [
                await digest(mongo, database, MOUS_VIEW, None),
                await digest(mongo, database, CITIES_VIEW, cities),
            ]
            assert after == before
        finally:
            await mongo.drop_database(database)
