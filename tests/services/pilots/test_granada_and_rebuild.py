"""Granada's pilots (the demo file's, with ``ucap load``) load through a real pilots
process and read back complete; ``python -m ucap_pilots rebuild`` then gives back the
same views."""

import asyncio
import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.services.pilots.conftest import (
    drafted,
    fresh_namespace,
    publish,
    registered,
    ucap_created,
)
from tests.support.auth import ADMIN, bearer
from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, run_service
from tests.support.ucap_command import GRANADA, load_into_service
from tests.support.waiting import eventually
from ucap_pilots.views import CITIES_VIEW, MOUS_VIEW, PILOTS_VIEW, UCAPS_VIEW
from ucap_shared.mongo import MongoClient

CITIES = ("granada", "haikou", "kunming", "liuzhou", "zhengzhou")
MOUS = {
    "granada-zhengzhou-2018": ["granada", "zhengzhou"],
    "granada-haikou-2018": ["granada", "haikou"],
    "granada-kunming-ciba-2018": ["granada", "kunming"],
    "granada-kunming-2018-11": ["granada", "kunming"],
}
DETAILS = (
    "title",
    "description",
    "stakeholder_ids",
    "cluster",
    "themes",
    "sdg_goals",
    "sdg_targets",
    "urban_agenda_themes",
)


async def digest(mongo: MongoClient, database: str, collection: str, ids: set[str] | None) -> str:
    query: dict[str, Any] = {"_id": {"$in": sorted(ids)}} if ids is not None else {}
    documents = await mongo[database][collection].find(query).sort("_id", 1).to_list()
    return hashlib.sha256(json.dumps(documents, sort_keys=True, default=str).encode()).hexdigest()


async def caught_up(client: httpx.AsyncClient) -> bool:
    relay = (await client.get("/ops/relay")).json()
    freshness = (await client.get("/ops/freshness")).json()
    return relay["backlog"] == 0 and all(topic["lag"] == 0 for topic in freshness)


class TestGranadaPilots:
    async def test_load_through_the_api_read_back_complete_and_rebuild_to_the_same_views(
        self,
        infra: Infra,
        service_env: dict[str, str],
        log_dir: Path,
        mongo: MongoClient,
        tmp_path: Path,
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        database = f"test_pilots_granada_{suffix}"
        env = {
            **service_env,
            "UCAP_PILOTS_DATABASE": database,
            "UCAP_PILOTS_CONSUMER_GROUP": f"pilots-test-granada-{suffix}",
            # Topics of its own: a fresh group need not replay everyone's events first.
            "UCAP_TOPIC_NAMESPACE": (namespace := fresh_namespace()),
        }
        cities = {f"{city}-{suffix}" for city in CITIES}
        mous = {f"{mou}-{suffix}" for mou in MOUS}
        data = json.loads(GRANADA.read_text())
        expected = data["pilots"]
        file = tmp_path / "pilots.json"
        file.write_text(json.dumps({**data, "cities": [], "mous": [], "ucaps": []}))
        ucap = f"granada-ucap-{suffix}"
        try:
            with run_service("pilots", env, log_dir) as service:
                await publish(
                    infra.kafka_bootstrap_servers,
                    f"{namespace}.cities.events",
                    *(registered(f"{city}-{suffix}", city.title()) for city in CITIES),
                )
                await publish(
                    infra.kafka_bootstrap_servers,
                    f"{namespace}.mous.events",
                    *(
                        drafted(f"{mou}-{suffix}", [f"{c}-{suffix}" for c in parties])
                        for mou, parties in MOUS.items()
                    ),
                )
                counterparts = [f"{c}-{suffix}" for c in CITIES if c != "granada"]
                await publish(
                    infra.kafka_bootstrap_servers,
                    f"{namespace}.reporting.events",
                    ucap_created(ucap, f"granada-{suffix}", counterparts),
                )

                async def all_known() -> bool:
                    db = mongo[database]
                    known_cities = await db[CITIES_VIEW].count_documents(
                        {"_id": {"$in": sorted(cities)}, "registered": True}
                    )
                    known_mous = await db[MOUS_VIEW].count_documents(
                        {"_id": {"$in": sorted(mous)}, "drafted": True}
                    )
                    known_ucap = await db[UCAPS_VIEW].find_one({"_id": ucap, "created": True})
                    return (
                        known_cities == len(cities)
                        and known_mous == len(mous)
                        and known_ucap is not None
                    )

                await eventually(all_known, timeout=60)

                first = await load_into_service("pilots", service.url, file, suffix=suffix)
                second = await load_into_service("pilots", service.url, file, suffix=suffix)
                async with httpx.AsyncClient(
                    base_url=service.url, timeout=30, headers=bearer("pilots")
                ) as client:
                    listed = (await client.get("/pilots", params={"ucap": ucap})).json()
                    webinars_id = f"granada-{suffix}-blockchain-webinars"
                    blocklab_id = f"granada-{suffix}-blocklab"
                    end_of_2019 = {"as_of": "2019-12-31"}
                    webinars_2019 = await client.get(f"/pilots/{webinars_id}", params=end_of_2019)
                    blocklab_2019 = await client.get(f"/pilots/{blocklab_id}", params=end_of_2019)
                    blocklab_2020 = await client.get(
                        f"/pilots/{blocklab_id}", params={"as_of": "2020-05-31"}
                    )
                    history = (await client.get(f"/pilots/{webinars_id}/history")).json()
                    await eventually(lambda: caught_up(client), timeout=60)

            # Dated in the cooperation's timeline: webinars proposed 2019-09 (fund
            # application), the others 2020-05 (the finalised U-CAP).
            assert webinars_2019.status_code == 200, webinars_2019.text
            assert webinars_2019.json()["status"] == "approved"
            assert [a["awarded_on"] for a in webinars_2019.json()["funding"]] == ["2019-09"]
            assert blocklab_2019.status_code == 404, blocklab_2019.text
            assert blocklab_2020.status_code == 200, blocklab_2020.text
            assert [entry["time"][:7] for entry in history] == ["2019-09"] * len(history)
            assert {entry["actor"] for entry in history} == {ADMIN.subject}
            assert first["by_kind"]["pilot"]["created"] == len(expected)
            assert first["totals"]["refused"] == 0, first["refused"]
            assert second["totals"]["skipped"] == len(second["items"]), second["totals"]
            items = {item["id"]: item for item in listed["items"]}
            assert len(items) == len(expected) == 13
            for pilot in expected:
                lead = pilot["lead_city_id"]
                got = items[f"{lead}-{suffix}-" + pilot["id"].removeprefix(f"{lead}-")]
                for name in DETAILS:
                    assert got[name] == pilot[name], (pilot["id"], name)
                assert got["partners"] == [
                    {**p, "city_id": f"{p['city_id']}-{suffix}"} for p in pilot["partners"]
                ]
                assert got["mou_ids"] == [f"{mou}-{suffix}" for mou in pilot["mou_ids"]]
                assert [(m["id"], m["planned_on"]) for m in got["milestones"]] == [
                    (m["id"], m["planned_on"]) for m in pilot.get("milestones", [])
                ]
            webinars = items[f"granada-{suffix}-blockchain-webinars"]
            assert webinars["status"] == "approved"
            assert webinars["status_changes"][0]["effective_on"] == "2019-09"
            assert [m["planned_on"] for m in webinars["milestones"]] == [
                "2020-07",
                "2020-09",
                "2020-11",
            ]
            (award,) = webinars["funding"]
            assert (award["funder"], award["category"], award["awarded_on"]) == (
                "IUC competitive fund",
                "gold",
                "2019-09",
            )
            assert {theme for item in items.values() for theme in item["themes"]} == {
                "Culture, Tourism and Education",
                "Life Sciences and Healthy City",
                "Smart City and Digital Transition",
            }
            assert {p["city_id"] for item in items.values() for p in item["partners"]} == cities

            pilot_ids = set(items)
            before = [
                await digest(mongo, database, PILOTS_VIEW, None),
                await digest(mongo, database, CITIES_VIEW, cities),
                await digest(mongo, database, MOUS_VIEW, mous),
            ]
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "ucap_pilots",
                "rebuild",
                env=env,
                cwd=REPO_ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output = (await asyncio.wait_for(process.communicate(), 120))[0].decode()
            assert "rebuilt in" in output, output
            skipped = [line for line in output.splitlines() if "skipped" in line]
            assert not [line for line in skipped if suffix in line], output
            after = [
                await digest(mongo, database, PILOTS_VIEW, None),
                await digest(mongo, database, CITIES_VIEW, cities),
                await digest(mongo, database, MOUS_VIEW, mous),
            ]
            assert after == before
            assert await mongo[database][PILOTS_VIEW].count_documents({}) == len(pilot_ids)
        finally:
            await mongo.drop_database(database)
