"""``ucap load`` loads the demo file's MoUs into a real MoUs service, and loading twice
changes nothing."""

import json
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from tests.services.mous.conftest import CITIES_TOPIC, registered
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import run_service
from tests.support.ucap_command import GRANADA, load_into_service
from tests.support.waiting import eventually
from ucap_mous.views import CITIES_VIEW
from ucap_shared.mongo import MongoClient

CITIES = ("granada", "haikou", "kunming", "zhengzhou")
MOUS = (
    "granada-haikou-2018",
    "granada-zhengzhou-2018",
    "granada-kunming-ciba-2018",
    "granada-kunming-2018-11",
)


class TestDemoLoader:
    async def test_loads_the_granada_mous_once(
        self,
        infra: Infra,
        service_env: dict[str, str],
        log_dir: Path,
        mongo: MongoClient,
        tmp_path: Path,
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        database = f"test_mous_demo_{suffix}"
        # Only the MoUs; --suffix makes their ids and cities unique (the topics are shared).
        data = json.loads(GRANADA.read_text())
        file = tmp_path / "mous.json"
        file.write_text(json.dumps({**data, "cities": [], "pilots": [], "ucaps": []}))
        env = {
            **service_env,
            "UCAP_MOUS_DATABASE": database,
            "UCAP_MOUS_CONSUMER_GROUP": f"mous-test-demo-{suffix}",
        }
        try:
            with run_service("mous", env, log_dir) as service:
                producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
                await producer.start()
                try:
                    for city in CITIES:
                        envelope = registered(f"{city}-{suffix}", city.title())
                        await producer.send_and_wait(
                            CITIES_TOPIC, envelope.to_json(), key=envelope.record_key()
                        )
                finally:
                    await producer.stop()

                async def cities_known() -> bool:
                    ids = [f"{city}-{suffix}" for city in CITIES]
                    query = {"registered": True, "_id": {"$in": ids}}
                    return await mongo[database][CITIES_VIEW].count_documents(query) == len(ids)

                await eventually(cities_known, timeout=60)

                first = await load_into_service("mous", service.url, file, suffix=suffix)
                second = await load_into_service("mous", service.url, file, suffix=suffix)
                async with httpx.AsyncClient(
                    base_url=service.url, headers=bearer("mous")
                ) as client:
                    listed = (
                        await client.get("/mous", params={"city": f"granada-{suffix}"})
                    ).json()

            assert first["by_kind"]["mou"]["created"] == 4
            assert first["by_kind"]["signature"]["created"] == 8
            assert first["totals"]["refused"] == 0
            assert second["totals"] == {"created": 0, "updated": 0, "skipped": 12, "refused": 0}
            items = listed["items"]
            assert [item["id"] for item in items] == [f"{mou}-{suffix}" for mou in MOUS]
            assert [item["signed_on"] for item in items] == [
                "2018-07",
                "2018-07",
                "2018-09",
                "2018-11",
            ]
            assert {item["status"] for item in items} == {"in_force"}
            assert items[2]["signatures"][0]["place"] == "Granada"
            assert {party["city_id"] for item in items for party in item["parties"]} == {
                f"{city}-{suffix}" for city in CITIES
            }
        finally:
            await mongo.drop_database(database)
