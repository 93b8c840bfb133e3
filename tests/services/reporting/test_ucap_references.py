"""A U-CAP names only cities reporting knows (422 naming each unknown one, nothing
appended), and its status shows only pilots led by one of its cities, whatever their
events say (issue 15: a pilot of Barcelona's showed, overdue, in Granada's status)."""

from typing import Any

import httpx

from tests.services.reporting.conftest import ReportingService, fresh, ucap_body


def problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail


async def history_length(reporting: ReportingService, ucap_id: str) -> int:
    response = await reporting.client.get(f"/ucaps/{ucap_id}/history")
    return len(response.json()) if response.status_code == 200 else 0


class TestCitiesAUcapNames:
    async def test_an_unknown_lead_or_counterpart_is_422_naming_each_and_appends_nothing(
        self, reporting: ReportingService
    ) -> None:
        known, lead, unknown = fresh("kunming"), fresh("granada"), fresh("nowhere")
        await reporting.register(known)
        ucap_id = fresh("ucap")

        response = await reporting.client.post(
            "/ucaps", json=ucap_body(ucap_id, lead, [known, unknown])
        )

        assert {(tuple(p["loc"]), p["msg"]) for p in problems(response)} == {
            (("body", "lead_city_id"), f"unknown city {lead}"),
            (("body", "counterpart_city_ids", 1), f"unknown city {unknown}"),
        }
        assert await history_length(reporting, ucap_id) == 0

    async def test_once_the_cities_are_known_the_ucap_is_created(
        self, reporting: ReportingService
    ) -> None:
        lead, counterpart = fresh("granada"), fresh("kunming")
        body = ucap_body(fresh("ucap"), lead, [counterpart])
        assert (await reporting.client.post("/ucaps", json=body)).status_code == 422

        await reporting.register(lead, counterpart)

        created = await reporting.client.post("/ucaps", json=body)
        assert created.status_code == 201, created.text

    async def test_a_patch_naming_an_unknown_counterpart_is_422_and_appends_nothing(
        self, reporting: ReportingService
    ) -> None:
        lead, counterpart, unknown = fresh("granada"), fresh("kunming"), fresh("nowhere")
        ucap_id = fresh("ucap")
        await reporting.create(ucap_id, lead, [counterpart])
        before = await history_length(reporting, ucap_id)

        response = await reporting.client.patch(
            f"/ucaps/{ucap_id}", json={"counterpart_city_ids": [counterpart, unknown]}
        )

        assert [p["loc"] for p in problems(response)] == [["body", "counterpart_city_ids", 1]]
        assert unknown in response.json()["detail"][0]["msg"]
        assert await history_length(reporting, ucap_id) == before


class TestPilotsTheStatusShows:
    async def test_a_pilot_led_by_a_city_outside_the_ucap_is_left_out_with_its_flags(
        self, reporting: ReportingService
    ) -> None:
        s = reporting.streams
        lead, counterpart, stranger = fresh("granada"), fresh("kunming"), fresh("barcelona")
        ucap_id = fresh("ucap")
        await reporting.create(ucap_id, lead, [counterpart])
        foreign, own = fresh("barcelona-pilot"), fresh("granada-pilot")
        await reporting.publish(
            s.pilot_proposed(foreign, ucap_id, stranger, [counterpart]),
            s.pilot_status(foreign, "approved", "approved", "2000-01"),
            s.milestone_added(foreign, "late", "2000-01"),
            s.pilot_proposed(own, ucap_id, lead, [counterpart]),
            s.milestone_added(own, "due", "9999-12"),
        )

        body = await reporting.wait_status(
            ucap_id,
            lambda b: (
                b["applied"].get(f"pilot:{foreign}") == 3 and b["applied"].get(f"pilot:{own}") == 2
            ),
        )

        shown = [p["pilot_id"] for c in body["counterparts"] for p in c["pilots"]]
        shown += [p["pilot_id"] for p in body["other_pilots"]]
        assert shown == [own]
        assert body["figures"]["pilots"] == 1
        assert body["figures"]["milestones"] == {"done": 0, "due": 1, "overdue": 0}
        assert body["flags"]["overdue_milestones"] == []
        assert body["flags"]["stale_pilots"] == []

    async def test_a_pilot_whose_city_leaves_the_ucap_leaves_its_status(
        self, reporting: ReportingService
    ) -> None:
        s = reporting.streams
        lead, first, second = fresh("granada"), fresh("kunming"), fresh("haikou")
        ucap_id = fresh("ucap")
        await reporting.create(ucap_id, lead, [first, second])
        pilot = fresh("kunming-pilot")
        await reporting.publish(s.pilot_proposed(pilot, ucap_id, first, [lead]))
        await reporting.wait_status(ucap_id, lambda b: b["figures"]["pilots"] == 1)

        patched = await reporting.client.patch(
            f"/ucaps/{ucap_id}", json={"counterpart_city_ids": [second]}
        )

        assert patched.status_code == 200, patched.text
        body = await reporting.wait_status(
            ucap_id, lambda b: b["ucap"]["counterpart_city_ids"] == [second]
        )
        assert body["figures"]["pilots"] == 0
        assert body["other_pilots"] == []
