"""The Granada U-CAP cities loaded through a real service process, and views rebuilt.

The service runs as a real process (``python -m ucap_cities``) with a database,
topic and consumer group of this test's own; ``ucap load`` loads the cities of
the demo data file into it.
"""

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services.cities.conftest import Isolation, clean_up
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, run_service
from tests.support.ucap_command import GRANADA, ucap
from tests.support.waiting import eventually
from ucap_cities.schemas import RegisterCityRequest
from ucap_shared.mongo import MongoClient

DATA: dict[str, Any] = json.loads(GRANADA.read_text(encoding="utf-8"))
# As the API takes them: without the date the loader sends in a header.
GRANADA_CITIES: list[dict[str, Any]] = [
    {name: value for name, value in city.items() if name != "registered_on"}
    for city in DATA["cities"]
]


@pytest.fixture
async def isolation(infra: Infra, mongo: MongoClient) -> AsyncIterator[Isolation]:
    isolation = Isolation.new()
    yield isolation
    await clean_up(infra, mongo, isolation)


ADMIN_HEADERS = bearer("cities")


def load_cities(url: str, folder: Path) -> dict[str, int]:
    """``ucap load`` of the demo file's cities straight into the service, an admin token
    for its audience as the key; the totals of its summary."""
    file = folder / "cities.json"
    file.write_text(json.dumps({**DATA, "mous": [], "pilots": [], "ucaps": []}))
    token = ADMIN_HEADERS["Authorization"].removeprefix("Bearer ")
    result = ucap("load", str(file), "--gateway", url, "--key", token, "--json", env=os.environ)
    assert result.returncode == 0, result.stdout + result.stderr
    totals: dict[str, int] = json.loads(result.stdout)["totals"]
    return totals


def profile(city: Mapping[str, Any]) -> dict[str, Any]:
    """What the demo file says of a city, as the API returns it."""
    return {
        "id": city["id"],
        "name": city["name"],
        "native_name": city["native_name"],
        "region": city["region"],
        "country": city["country"],
        "world_region": city["world_region"],
        "population": {"value": None, "year": None, **city["population"]},
        "area_km2": city["area_km2"],
        "clusters": city["clusters"],
        "stakeholders": [{"website": None, **s} for s in city["stakeholders"]],
    }


async def view_hash(
    mongo: MongoClient, database: str, view: str = "cities_view"
) -> tuple[int, str]:
    documents = [doc async for doc in mongo[database][view].find({}).sort("_id", 1)]
    encoded = json.dumps(documents, sort_keys=True, default=str, ensure_ascii=False)
    return len(documents), hashlib.sha256(encoded.encode()).hexdigest()


class TestGranadaDemoData:
    def test_every_city_is_a_valid_registration(self) -> None:
        for city in GRANADA_CITIES:
            RegisterCityRequest.model_validate(city)

    def test_holds_the_summarys_cities_and_figures(self) -> None:
        by_id = {city["id"]: city for city in GRANADA_CITIES}

        assert set(by_id) == {"granada", "haikou", "kunming", "liuzhou", "zhengzhou"}
        assert by_id["granada"]["population"] == {"known": True, "value": 236000, "year": 2018}
        assert by_id["granada"]["area_km2"] == 88
        assert {by_id[c]["native_name"] for c in by_id if c != "granada"} == {
            "海口",
            "昆明",
            "柳州",
            "郑州",
        }
        assert all(by_id[c]["population"] == {"known": False} for c in by_id if c != "granada")
        assert all("Smart City" in city["clusters"] for city in GRANADA_CITIES)


class TestLoadingAndRebuilding:
    async def test_loads_once_reads_back_complete_and_rebuilds_the_same_view(
        self,
        isolation: Isolation,
        service_env: dict[str, str],
        mongo: MongoClient,
        log_dir: Path,
        tmp_path: Path,
    ) -> None:
        env = isolation.env(service_env)

        with run_service("cities", env, log_dir) as service:
            first = load_cities(service.url, tmp_path)
            second = load_cities(service.url, tmp_path)
            async with httpx.AsyncClient(base_url=service.url, headers=ADMIN_HEADERS) as client:
                fund = {
                    "organisation_id": "uk-china-biotech-fund",
                    "name": "UK-China Biotech Fund",
                    "kind": "other",
                    "scope": "international",
                }
                assert (await client.post("/organisations", json=fund)).status_code == 201
                read_back = {
                    city["id"]: (await client.get(f"/cities/{city['id']}")).json()
                    for city in GRANADA_CITIES
                }

                async def relayed() -> bool:
                    backlog: int = (await client.get("/ops/relay")).json()["backlog"]
                    return backlog == 0

                # Then the rebuild replays the topic too, not only the event store.
                await eventually(relayed, timeout=30)
        before = await view_hash(mongo, isolation.database)
        organisations_before = await view_hash(mongo, isolation.database, "organisations_view")

        rebuilt = await rebuild(env)
        after = await view_hash(mongo, isolation.database)
        organisations_after = await view_hash(mongo, isolation.database, "organisations_view")

        assert first == {"created": 5, "updated": 0, "skipped": 0, "refused": 0}
        assert second == {"created": 0, "updated": 0, "skipped": 5, "refused": 0}
        for city in GRANADA_CITIES:
            got = read_back[city["id"]]
            assert {key: got[key] for key in profile(city)} == profile(city)
        assert "0 skipped" in rebuilt
        assert before[0] == 5
        assert after == before
        assert organisations_before[0] == 1
        assert organisations_after == organisations_before

        with run_service("cities", env, log_dir) as service:
            async with httpx.AsyncClient(base_url=service.url, headers=ADMIN_HEADERS) as client:
                granada = (await client.get("/cities/granada")).json()
        assert granada == read_back["granada"]


async def rebuild(env: dict[str, str]) -> str:
    """``python -m ucap_cities rebuild``, retried while the stopped service's group empties."""

    async def attempt() -> str | None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ucap_cities",
            "rebuild",
            env=env,
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output = (await process.communicate())[0].decode()
        if process.returncode == 0:
            return output
        assert "active member" in output, output
        return None

    return await eventually(attempt, timeout=45, interval=1)
