"""``ucap load granada.json iuc-asia.json``: both demo files through a real gateway and
services, as one load: version 2's facts arrive (a city's kind, an organisation with no
city as an MoU party, an activity over several days) and both U-CAPs answer as of
2019-12-31 in the cooperation's own time.

Needs the services of issue 16's contract A and C (organisations on the cities service,
routed by the gateway; MoU parties that are organisations; activities with status and
end date; ``as_of`` on the cooperation axis)."""

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack
from tests.support.status_facts import facts_of, html_text, markdown_text, missing
from tests.support.ucap_command import GRANADA, ucap
from tests.support.waiting import polled

IUC_ASIA = GRANADA.with_name("iuc-asia.json")


def get(stack: Stack, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{stack.url}{path}", params=params, headers=stack.headers, timeout=30)


def both(stack: Stack, suffix: str) -> tuple[int, dict[str, Any]]:
    result = ucap(
        "load",
        str(GRANADA),
        str(IUC_ASIA),
        "--gateway",
        stack.url,
        "--suffix",
        suffix,
        "--json",
        "--wait",
        "30",
        env=stack.env,
    )
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else {}


class TestBothDemoFiles:
    def test_load_as_one_and_hold_version_2_s_facts(self, stack: Stack) -> None:
        suffix = uuid.uuid4().hex[:8]

        first_code, first = both(stack, suffix)
        second_code, second = both(stack, suffix)
        fund = get(stack, f"/organisations/andalusia-smart-city-cluster-{suffix}")
        liudong = get(stack, f"/cities/liudong-new-district-{suffix}")
        mou = get(stack, f"/mous/zhengzhou-andalusia-smart-city-cluster-2017-{suffix}")
        barcelona = get(stack, f"/ucaps/barcelona-liuzhou-ucap-{suffix}")

        assert first_code == 0, first.get("refused")
        assert second_code == 0, second.get("refused")
        assert second["totals"]["created"] == second["totals"]["updated"] == 0
        assert fund.json()["scope"] == "national"
        assert liudong.json()["kind"] == "new_area"
        assert (mou.json()["status"], mou.json()["signed_on"]) == ("in_force", "2017-04")
        assert {p.get("organisation_id") for p in mou.json()["parties"]} >= {
            f"andalusia-smart-city-cluster-{suffix}"
        }
        mission = barcelona.json()["activities"][0]
        assert (mission["date"], mission["end_date"], mission["status"]) == (
            "2019-06-09",
            "2019-06-15",
            "held",
        )

    def test_answer_as_of_the_end_of_2019_in_the_cooperation_s_time(self, stack: Stack) -> None:
        suffix = uuid.uuid4().hex[:8]
        code, summary = both(stack, suffix)
        assert code == 0, summary.get("refused")

        granada = get(stack, f"/ucaps/granada-ucap-{suffix}/status", as_of="2019-12-31")
        barcelona = get(stack, f"/ucaps/barcelona-liuzhou-ucap-{suffix}/status", as_of="2019-12-31")

        assert granada.status_code == 200, granada.text
        assert granada.json()["axis"] == "cooperation"
        assert barcelona.status_code == 200, barcelona.text
        known = [a["activity_id"] for a in barcelona.json()["status"]["ucap"]["activities"]]
        assert known == ["2019-06-eu-smart-cities-mission"]


class TestEveryFactOfTheSecondFile:
    @pytest.mark.parametrize("ucap_id", ["barcelona-liuzhou-ucap", "zhengzhou-ucap"])
    def test_each_fact_of_the_json_is_in_the_markdown_and_in_the_html(
        self, stack: Stack, ucap_id: str
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        code, summary = both(stack, suffix)
        assert code == 0, summary.get("refused")
        path = f"/ucaps/{ucap_id}-{suffix}/status"

        compiled = polled(
            lambda: get(stack, path, format="json").json(),
            lambda compiled: (
                all(part["available"] for part in compiled["parts"].values())
                and bool(compiled["status"]["counterparts"])
            ),
            timeout=60,
        )
        facts = facts_of(compiled["status"])

        assert len(facts) > 20
        assert missing(facts, markdown_text(get(stack, path, format="md").text)) == []
        assert missing(facts, html_text(get(stack, path, format="html").text)) == []
