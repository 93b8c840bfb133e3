"""``ucap load`` loads Granada's U-CAP summary (the demo file's U-CAP) entirely; it reads
back complete, and dated in the cooperation's timeline.

Through a real reporting process, the loader sending a token for the
``reporting`` audience as its key. The U-CAP id is made unique: the events
topic is shared with everyone.
"""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.services.reporting.conftest import Streams, publish, start_group_at_end
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import run_service
from tests.support.ucap_command import GRANADA, load_into_service
from tests.support.waiting import eventually
from ucap_reporting.projections import CITIES_VIEW
from ucap_shared.mongo import connect_mongo

Json = dict[str, Any]


@dataclass
class Loaded:
    """What the loader summed up on two runs, and what the service answered after them."""

    ucap_id: str
    data: Json
    first: Json
    second: Json
    ucap: Json
    status: Json
    history: list[Json]
    as_of: dict[str, httpx.Response]


AS_OF_DAYS = ("2018-05-31", "2018-06-30", "2019-01-01", "2020-05-31")


@pytest.fixture(scope="module")
async def loaded(
    infra: Infra, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Loaded]:
    suffix = uuid.uuid4().hex[:8]
    database, group = f"test_reporting_granada_{suffix}", f"reporting-test-granada-{suffix}"
    ucap_id = f"granada-ucap-{suffix}"
    demo: Json = json.loads(GRANADA.read_text())
    (data,) = demo["ucaps"]
    data["id"] = ucap_id
    folder = tmp_path_factory.mktemp("granada")
    file = folder / "ucap.json"
    file.write_text(json.dumps({**demo, "cities": [], "mous": [], "pilots": [], "ucaps": [data]}))
    await start_group_at_end(infra.kafka_bootstrap_servers, group)
    env = {
        **service_env,
        "UCAP_REPORTING_DATABASE": database,
        "UCAP_REPORTING_CONSUMER_GROUP": group,
    }
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        with run_service("reporting", env, folder) as service:
            # A U-CAP names only cities the service knows: its cities first.
            cities = [data["lead_city_id"], *data["counterpart_city_ids"]]
            streams = Streams()
            await publish(
                infra.kafka_bootstrap_servers,
                *(streams.city_registered(city, city.title()) for city in cities),
            )

            async def cities_known() -> bool:
                known = await mongo[database][CITIES_VIEW].count_documents(
                    {"_id": {"$in": cities}, "registered": True}
                )
                return known == len(cities)

            await eventually(cities_known, timeout=60, interval=0.2)
            first = await load_into_service("reporting", service.url, file)
            second = await load_into_service("reporting", service.url, file)
            async with httpx.AsyncClient(
                base_url=service.url, headers=bearer("reporting"), timeout=30
            ) as client:
                base = f"/ucaps/{ucap_id}"
                yield Loaded(
                    ucap_id=ucap_id,
                    data=data,
                    first=first,
                    second=second,
                    ucap=(await client.get(base)).json(),
                    status=(await client.get(f"{base}/status")).json(),
                    history=(await client.get(f"{base}/history")).json(),
                    as_of={
                        day: await client.get(base, params={"as_of": day}) for day in AS_OF_DAYS
                    },
                )
    finally:
        await mongo.drop_database(database)
        await mongo.close()


class TestGranadaSummary:
    def test_the_loader_writes_once_then_finds_it_up_to_date(self, loaded: Loaded) -> None:
        assert loaded.first["totals"] == {"created": 14, "updated": 0, "skipped": 0, "refused": 0}
        assert loaded.second["totals"] == {"created": 0, "updated": 0, "skipped": 14, "refused": 0}
        assert loaded.second["by_kind"]["ucap"]["skipped"] == 1
        assert len(loaded.history) == 1 + 11 + 2
        assert {entry["actor"] for entry in loaded.history} == {"ops:test"}

    def test_the_whole_summary_reads_back_complete(self, loaded: Loaded) -> None:
        ucap, data = loaded.ucap, loaded.data
        assert ucap["lead_city_id"] == "granada"
        assert ucap["counterpart_city_ids"] == ["haikou", "kunming", "liuzhou", "zhengzhou"]
        assert ucap["period"] == {"from": "2018-06", "until": "2020-11"}
        assert [t["title"] for t in ucap["themes"]] == [
            "Culture, Tourism and Education",
            "Life Sciences and Healthy City",
            "Smart City and Digital Transition",
        ]
        assert all(t["key_focus"] for t in ucap["themes"])
        assert "Liudong New District" in ucap["themes"][2]["key_focus"]
        assert sorted(ucap["sdgs"]) == [3, 4, 9, 11]
        assert ucap["urban_agenda_themes"] == ["Culture/Cultural Heritage", "Digital Transition"]
        assert any("triple-helix" in c for c in ucap["key_challenges"])
        assert ucap["main_objectives"] == data["main_objectives"]
        assert "BlockLab" in ucap["expected_results"]
        assert ucap["contact"] == "IUC-ASIA_office@iuc-asia.eu"

        activities = ucap["activities"]
        # A version 1 file's activities read as held, on one day.
        assert activities == [{"status": "held", "end_date": None, **a} for a in data["activities"]]
        assert [a["date"] for a in activities] == [
            "2018-07", "2018-09", "2018-11", "2019-04", "2019-06", "2019-09",
            "2019-11", "2020-03", "2020-04", "2020-05", "2020-06",
        ]  # fmt: skip
        assert [a["ordinal"] for a in activities if a["ordinal"]] == [1, 2, 3, 4, 5, 6]

        assert ucap["delivery_status"] == "final"
        assert ucap["finalised_on"] == "2020-05"
        assert [(d["kind"], d["date"]) for d in ucap["deliverables"]] == [
            ("ucap", "2020-05"),
            ("concept_note", "2020-06"),
        ]
        status = loaded.status
        assert status["ucap"] == ucap
        assert status["figures"]["activities_per_year"] == {"2018": 3, "2019": 4, "2020": 4}
        assert [c["city"]["city_id"] for c in status["counterparts"]] == ucap[
            "counterpart_city_ids"
        ]


class TestDatedInTheCooperationsTimeline:
    def test_each_event_is_recorded_at_the_date_it_happened(self, loaded: Loaded) -> None:
        months = [entry["time"][:7] for entry in loaded.history]
        assert months == [
            "2018-06", "2018-07", "2018-09", "2018-11", "2019-04", "2019-06", "2019-09",
            "2019-11", "2020-03", "2020-04", "2020-05", "2020-05", "2020-06", "2020-06",
        ]  # fmt: skip
        assert months == sorted(months)

    def test_as_of_new_year_2019_shows_only_the_activities_up_to_november_2018(
        self, loaded: Loaded
    ) -> None:
        response = loaded.as_of["2019-01-01"]
        assert response.status_code == 200, response.text
        ucap = response.json()
        assert [a["activity_id"] for a in ucap["activities"]] == [
            "2018-07-first-meeting",
            "2018-09-second-meeting",
            "2018-11-third-meeting",
        ]
        assert ucap["delivery_status"] == "draft"
        assert ucap["deliverables"] == []

    def test_before_the_period_starts_there_is_no_ucap_and_at_its_start_an_empty_one(
        self, loaded: Loaded
    ) -> None:
        assert loaded.as_of["2018-05-31"].status_code == 404
        started = loaded.as_of["2018-06-30"].json()
        assert started["title"] == loaded.data["title"]
        assert started["activities"] == []

    def test_as_of_the_end_of_may_2020_the_ucap_is_final_without_the_concept_note(
        self, loaded: Loaded
    ) -> None:
        ucap = loaded.as_of["2020-05-31"].json()
        assert ucap["delivery_status"] == "final"
        assert [d["kind"] for d in ucap["deliverables"]] == ["ucap"]
        assert ucap["activities"][-1]["activity_id"] == "2020-05-ucap-delivered"
