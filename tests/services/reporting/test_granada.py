"""deploy/demo/load_ucap.py loads Granada's U-CAP summary entirely; it reads back complete.

Through a real reporting process. The U-CAP id is made unique: the events
topic is shared with everyone.
"""

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.services.reporting.conftest import start_group_at_end
from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, run_service
from ucap_shared.mongo import MongoClient

DEMO = REPO_ROOT / "deploy" / "demo"


async def run_loader(url: str, file: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DEMO / "load_ucap.py"),
        "--url",
        url,
        "--file",
        str(file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    assert process.returncode == 0, output
    return output


class TestGranadaSummary:
    async def test_the_whole_summary_loads_once_and_reads_back_complete(
        self,
        infra: Infra,
        service_env: dict[str, str],
        log_dir: Path,
        mongo: MongoClient,
        tmp_path: Path,
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        database, group = f"test_reporting_granada_{suffix}", f"reporting-test-granada-{suffix}"
        ucap_id = f"granada-ucap-{suffix}"
        data: dict[str, Any] = json.loads((DEMO / "granada-ucap.json").read_text())
        data["ucap"]["id"] = ucap_id
        file = tmp_path / "ucap.json"
        file.write_text(json.dumps(data))
        await start_group_at_end(infra.kafka_bootstrap_servers, group)
        env = {
            **service_env,
            "UCAP_REPORTING_DATABASE": database,
            "UCAP_REPORTING_CONSUMER_GROUP": group,
        }
        try:
            with run_service("reporting", env, log_dir) as service:
                first = await run_loader(service.url, file)
                second = await run_loader(service.url, file)
                async with httpx.AsyncClient(base_url=service.url) as client:
                    ucap = (await client.get(f"/ucaps/{ucap_id}")).json()
                    status = (await client.get(f"/ucaps/{ucap_id}/status")).json()
                    history = (await client.get(f"/ucaps/{ucap_id}/history")).json()
        finally:
            await mongo.drop_database(database)

        assert "created" in first
        assert second.strip() == f"{ucap_id}: up to date"
        assert len(history) == 1 + 11 + 2

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
        assert ucap["main_objectives"] == data["ucap"]["main_objectives"]
        assert "BlockLab" in ucap["expected_results"]
        assert ucap["contact"] == "IUC-ASIA_office@iuc-asia.eu"

        activities = ucap["activities"]
        assert activities == data["activities"]
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
        assert status["ucap"] == ucap
        assert status["figures"]["activities_per_year"] == {"2018": 3, "2019": 4, "2020": 4}
        assert [c["city"]["city_id"] for c in status["counterparts"]] == ucap[
            "counterpart_city_ids"
        ]
