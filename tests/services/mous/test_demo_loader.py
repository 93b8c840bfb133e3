"""deploy/demo/load_mous.py loads Granada's MoUs, and loading twice changes nothing."""

import asyncio
import json
import sys
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from tests.services.mous.conftest import CITIES_TOPIC, registered
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, run_service
from tests.support.waiting import eventually
from ucap_mous.views import CITIES_VIEW
from ucap_shared.mongo import MongoClient

DEMO = REPO_ROOT / "deploy" / "demo"
CITIES = ("granada", "haikou", "kunming", "zhengzhou")
MOUS = (
    "granada-haikou-2018",
    "granada-zhengzhou-2018",
    "granada-kunming-ciba-2018",
    "granada-kunming-2018-11",
)


async def run_loader(url: str, file: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DEMO / "load_mous.py"),
        "--url",
        url,
        "--file",
        str(file),
        "--key",
        bearer("mous")["Authorization"].removeprefix("Bearer "),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    assert process.returncode == 0, output
    return output


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
        # The file's city and MoU ids made unique: the topics are shared with everyone.
        text = (DEMO / "granada-mous.json").read_text()
        for city in (*CITIES, *MOUS):
            text = text.replace(f'"{city}"', f'"{city}-{suffix}"')
        file = tmp_path / "mous.json"
        file.write_text(text)
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

                first = await run_loader(service.url, file)
                second = await run_loader(service.url, file)
                async with httpx.AsyncClient(
                    base_url=service.url, headers=bearer("mous")
                ) as client:
                    listed = (
                        await client.get("/mous", params={"city": f"granada-{suffix}"})
                    ).json()

            assert "drafted" in first
            assert second.count("up to date") == 4
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
            assert json.loads(text)["mous"][0]["id"] == f"granada-zhengzhou-2018-{suffix}"
        finally:
            await mongo.drop_database(database)
