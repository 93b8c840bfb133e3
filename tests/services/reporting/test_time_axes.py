"""The two time axes: ``as_of`` by the dates facts carry, ``recorded_as_of`` by event time.

A U-CAP recorded on 1 January 2019 (an admin's occurred-at), and facts of 2019 that
partner systems record today: as of 2019-12-31 they are there in cooperation time, and
absent from what had been recorded by then.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.services.reporting.conftest import ReportingService, fresh, start_reporting, ucap_body
from tests.support.infra import Infra
from ucap_shared.app import OCCURRED_AT_HEADER

Json = dict[str, Any]


@pytest.fixture(scope="module")
async def reporting(infra: Infra) -> AsyncIterator[ReportingService]:
    async for service in start_reporting(infra, "time-axes"):
        yield service


async def ucap_recorded_in_2019(reporting: ReportingService) -> tuple[str, str, str]:
    ucap_id, lead, counterpart = fresh("ucap"), fresh("granada"), fresh("kunming")
    await reporting.register(lead, counterpart)
    created = await reporting.client.post(
        "/ucaps",
        json=ucap_body(ucap_id, lead, [counterpart]),
        headers={OCCURRED_AT_HEADER: "2019-01-01T09:00:00+00:00"},
    )
    assert created.status_code == 201, created.text
    return ucap_id, lead, counterpart


async def facts_of_2019_recorded_today(
    reporting: ReportingService, ucap_id: str, lead: str, counterpart: str
) -> tuple[str, str]:
    """A MoU signed in 2019, a pilot started in 2019 and one started in 2020, and an
    activity held in 2019 and one planned for 2020, all recorded now."""
    s = reporting.streams
    mou, pilot = fresh("mou"), fresh("pilot")
    await reporting.publish(
        s.mou_drafted(mou, [lead, counterpart]),
        s.mou_signed(mou, lead, "2019-03-01"),
        s.mou_signed(mou, counterpart, "2019-04"),
        s.pilot_proposed(pilot, ucap_id, lead, [counterpart]),
        s.pilot_status(pilot, "approved", "approved", "2019-05"),
        s.pilot_status(pilot, "started", "in_progress", "2020-02-01"),
        s.pilot_progress(pilot, fresh("u"), "2020-03-01", counterpart, "Launched"),
    )
    base = f"/ucaps/{ucap_id}/activities"
    for activity in (
        {"activity_id": "held-2019", "date": "2019-09", "status": "held"},
        {"activity_id": "planned-2020", "date": "2020-03", "status": "planned"},
    ):
        logged = await reporting.client.post(
            base, json={**activity, "kind": "meeting", "title": activity["activity_id"]}
        )
        assert logged.status_code == 201, logged.text
    await reporting.wait_status(
        ucap_id,
        lambda b: b["figures"]["mous_signed"] == 1 and b["figures"]["pilots"] == 1,
    )
    return mou, pilot


class TestTwoAxes:
    async def test_facts_of_2019_recorded_today_are_there_in_cooperation_time_only(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, lead, counterpart = await ucap_recorded_in_2019(reporting)
        mou, pilot = await facts_of_2019_recorded_today(reporting, ucap_id, lead, counterpart)

        cooperation = await reporting.status(ucap_id, as_of="2019-12-31")
        recorded = await reporting.status(ucap_id, recorded_as_of="2019-12-31")

        assert cooperation["axis"] == "cooperation"
        assert cooperation["on"] == "2019-12-31"
        (then,) = cooperation["counterparts"]
        assert [(m["mou_id"], m["status"]) for m in then["mous"]] == [(mou, "in_force")]
        # Approved in 2019; started only in 2020, reported on only in 2020.
        assert [(p["pilot_id"], p["status"]) for p in then["pilots"]] == [(pilot, "approved")]
        assert then["pilots"][0]["last_update"] is None
        # A plan holds on every day; what was held, from its date.
        assert [(a["activity_id"], a["status"]) for a in cooperation["ucap"]["activities"]] == [
            ("held-2019", "held"),
            ("planned-2020", "planned"),
        ]
        assert cooperation["figures"]["activities_per_year"] == {"2019": 1}
        assert cooperation["figures"]["activities_planned"] == 1

        assert recorded["axis"] == "recorded"
        (recorded_then,) = recorded["counterparts"]
        assert recorded_then["mous"] == []
        assert recorded_then["pilots"] == []
        assert recorded["ucap"]["activities"] == []

        live = await reporting.status(ucap_id)
        assert live["axis"] == "live"
        assert live["counterparts"][0]["pilots"][0]["status"] == "in_progress"
        assert live["figures"]["activities_planned"] == 1

    async def test_a_signature_of_unknown_date_is_not_known_by_any_past_day(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, lead, counterpart = await ucap_recorded_in_2019(reporting)
        s = reporting.streams
        mou = fresh("mou")
        await reporting.publish(
            s.mou_drafted(mou, [lead, counterpart]),
            s.mou_signed(mou, lead, "2019-03-01"),
            s.mou_signed(mou, counterpart, None),
        )
        live = await reporting.wait_status(ucap_id, lambda b: b["figures"]["mous_signed"] == 1)
        assert live["counterparts"][0]["mous"][0]["status"] == "in_force"
        assert live["counterparts"][0]["mous"][0]["signed_on"] is None

        then = await reporting.status(ucap_id, as_of="2025-01-01")

        (shown,) = then["counterparts"][0]["mous"]
        assert shown["status"] == "draft"
        assert [x["city_id"] for x in shown["signatures"]] == [lead]

    async def test_the_ucap_begins_with_its_period_in_cooperation_time(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, _, _ = await ucap_recorded_in_2019(reporting)  # its period from 2018-06

        before = await reporting.client.get(
            f"/ucaps/{ucap_id}/status", params={"as_of": "2018-05-31"}
        )
        begun = await reporting.status(ucap_id, as_of="2018-06-01")
        not_recorded = await reporting.client.get(
            f"/ucaps/{ucap_id}/status", params={"recorded_as_of": "2018-06-01"}
        )

        assert before.status_code == 404
        assert begun["ucap"]["ucap_id"] == ucap_id
        assert not_recorded.status_code == 404

    async def test_recorded_freshness_describes_that_day(self, reporting: ReportingService) -> None:
        ucap_id, lead, counterpart = await ucap_recorded_in_2019(reporting)
        await facts_of_2019_recorded_today(reporting, ucap_id, lead, counterpart)

        recorded = await reporting.status(ucap_id, recorded_as_of="2019-12-31")

        times = [f["last_event_time"] for f in recorded["freshness"] if f["last_event_time"]]
        assert times
        assert all(t < "2020-01-01" for t in times)
