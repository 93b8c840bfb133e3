"""The U-CAP API against the real Kafka and MongoDB-protocol server."""

from datetime import UTC, datetime, timedelta

from tests.services.reporting.conftest import ReportingService, fresh, ucap_body

ACTIVITY = {
    "activity_id": "2019-06-fifth-meeting",
    "date": "2019-06",
    "kind": "meeting",
    "ordinal": 5,
    "title": "Fifth meeting",
    "places": ["Chengdu", "Liuzhou"],
    "city_ids": ["granada", "liuzhou"],
    "outcome": "Pilot exchange with the health park",
}


async def created(reporting: ReportingService) -> str:
    ucap_id = fresh("ucap")
    await reporting.create(ucap_id, "granada", ["kunming", "liuzhou"])
    return ucap_id


class TestCreatingAndReading:
    async def test_a_created_ucap_reads_back_at_once(self, reporting: ReportingService) -> None:
        ucap_id = await created(reporting)
        body = (await reporting.client.get(f"/ucaps/{ucap_id}")).json()
        assert body["counterpart_city_ids"] == ["kunming", "liuzhou"]
        assert body["period"] == {"from": "2018-06", "until": "2020-11"}
        assert body["delivery_status"] == "draft"

    async def test_creating_an_existing_id_is_409(self, reporting: ReportingService) -> None:
        ucap_id = await created(reporting)
        response = await reporting.client.post(
            "/ucaps", json=ucap_body(ucap_id, "granada", ["kunming"])
        )
        assert response.status_code == 409

    async def test_every_invalid_field_is_reported_at_once(
        self, reporting: ReportingService
    ) -> None:
        body = ucap_body(fresh("ucap"), "granada", ["granada"], sdgs=[0])
        response = await reporting.client.post("/ucaps", json=body)
        assert response.status_code == 422
        locs = {tuple(problem["loc"]) for problem in response.json()["detail"]}
        assert {("body", "counterpart_city_ids"), ("body", "sdgs", 0)} <= locs

    async def test_an_unknown_ucap_is_404(self, reporting: ReportingService) -> None:
        assert (await reporting.client.get(f"/ucaps/{fresh('nope')}")).status_code == 404
        assert (await reporting.client.get(f"/ucaps/{fresh('nope')}/status")).status_code == 404


class TestEditing:
    async def test_a_patch_changes_only_the_sections_sent(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = await created(reporting)
        response = await reporting.client.patch(
            f"/ucaps/{ucap_id}", json={"sdgs": [3, 4, 9, 11], "contact": "iuc@example.org"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["sdgs"] == [3, 4, 9, 11]
        assert body["contact"] == "iuc@example.org"
        assert body["urban_agenda_themes"] == ["Digital Transition"]
        history = (await reporting.client.get(f"/ucaps/{ucap_id}/history")).json()
        assert [(e["type"], e["data"]["section"]) for e in history[1:]] == [
            ("ucap.ucap.section_updated.v1", "goals"),
            ("ucap.ucap.section_updated.v1", "contact"),
        ]

    async def test_activities_are_logged_edited_and_removed(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = await created(reporting)
        base = f"/ucaps/{ucap_id}/activities"
        assert (await reporting.client.post(base, json=ACTIVITY)).status_code == 201
        assert (await reporting.client.post(base, json=ACTIVITY)).status_code == 409
        edited = await reporting.client.patch(
            f"{base}/{ACTIVITY['activity_id']}", json={"outcome": "Health park pilot"}
        )
        (activity,) = edited.json()["activities"]
        assert activity["outcome"] == "Health park pilot"
        assert activity["ordinal"] == 5
        removed = await reporting.client.delete(f"{base}/{ACTIVITY['activity_id']}")
        assert removed.json()["activities"] == []
        types = [
            e["type"] for e in (await reporting.client.get(f"/ucaps/{ucap_id}/history")).json()
        ]
        assert types[1:] == [
            "ucap.ucap.activity_logged.v1",
            "ucap.ucap.activity_updated.v1",
            "ucap.ucap.activity_removed.v1",
        ]

    async def test_an_activity_is_planned_or_held_and_may_last_several_days(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = await created(reporting)
        base = f"/ucaps/{ucap_id}/activities"
        planned = {**ACTIVITY, "date": "2019-06-09", "end_date": "2019-06-15", "status": "planned"}
        logged = await reporting.client.post(base, json=planned)
        assert logged.status_code == 201, logged.text
        (activity,) = logged.json()["activities"]
        assert (activity["status"], activity["end_date"]) == ("planned", "2019-06-15")
        held = await reporting.client.patch(
            f"{base}/{ACTIVITY['activity_id']}", json={"status": "held", "end_date": None}
        )
        (activity,) = held.json()["activities"]
        assert (activity["status"], activity["end_date"]) == ("held", None)
        history = (await reporting.client.get(f"/ucaps/{ucap_id}/history")).json()
        assert history[1]["data"]["activity"]["status"] == "planned"
        assert history[2]["data"]["activity"]["status"] == "held"
        other = {**ACTIVITY, "activity_id": "defaulted"}
        defaulted = (await reporting.client.post(base, json=other)).json()["activities"]
        assert {a["activity_id"]: a["status"] for a in defaulted}["defaulted"] == "held"

    async def test_an_activity_ending_before_its_date_is_422_on_end_date(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = await created(reporting)
        base = f"/ucaps/{ucap_id}/activities"
        backwards = {**ACTIVITY, "date": "2019-06-09", "end_date": "2019-06-08"}
        logged = await reporting.client.post(base, json=backwards)
        assert logged.status_code == 422
        assert "end_date" in logged.text
        assert (await reporting.client.post(base, json={**ACTIVITY, "date": "2019-06"})).is_success
        edited = await reporting.client.patch(
            f"{base}/{ACTIVITY['activity_id']}", json={"end_date": "2019-05"}
        )
        assert edited.status_code == 422
        assert "end_date" in edited.text
        unknown = await reporting.client.post(
            base, json={**ACTIVITY, "activity_id": "x", "status": "happened"}
        )
        assert unknown.status_code == 422

    async def test_delivery_moves_forward_only(self, reporting: ReportingService) -> None:
        ucap_id = await created(reporting)
        url = f"/ucaps/{ucap_id}/deliver"
        deliverable = {"title": "Finalised U-CAP", "date": "2020-05", "kind": "ucap"}
        final = await reporting.client.post(
            url, json={"status": "final", "delivered_on": "2020-05", "deliverable": deliverable}
        )
        assert final.status_code == 200
        assert final.json()["finalised_on"] == "2020-05"
        back = await reporting.client.post(
            url, json={"status": "delivered", "delivered_on": "2020-06"}
        )
        assert back.status_code == 409
        assert len((await reporting.client.get(f"/ucaps/{ucap_id}/history")).json()) == 2


class TestListingAndAsOf:
    async def test_listing_pages_through_a_citys_ucaps(self, reporting: ReportingService) -> None:
        city = fresh("city")
        ids = sorted([fresh("ucap") for _ in range(3)])
        for ucap_id in ids:
            await reporting.create(ucap_id, city, ["kunming"])
        first = (await reporting.client.get("/ucaps", params={"city": city, "limit": 2})).json()
        second = (
            await reporting.client.get(
                "/ucaps", params={"city": city, "limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        assert [u["ucap_id"] for u in first["items"] + second["items"]] == ids
        assert second["next_cursor"] is None

    async def test_recorded_as_of_a_day_before_it_was_recorded_is_404_and_today_is_the_ucap(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = await created(reporting)
        today = datetime.now(UTC).date()
        yesterday = (today - timedelta(days=1)).isoformat()
        url = f"/ucaps/{ucap_id}"
        before = await reporting.client.get(url, params={"recorded_as_of": yesterday})
        assert before.status_code == 404
        now = await reporting.client.get(url, params={"recorded_as_of": today.isoformat()})
        assert now.json()["ucap_id"] == ucap_id

    async def test_as_of_follows_the_period_it_began_with_whenever_it_was_recorded(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = await created(reporting)  # recorded today, its period from 2018-06
        url = f"/ucaps/{ucap_id}"
        before = await reporting.client.get(url, params={"as_of": "2018-05-31"})
        assert before.status_code == 404
        begun = await reporting.client.get(url, params={"as_of": "2018-06-01"})
        assert begun.status_code == 200
        assert begun.json()["ucap_id"] == ucap_id

    async def test_both_axes_at_once_is_422_naming_recorded_as_of(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = await created(reporting)
        for path in (f"/ucaps/{ucap_id}", f"/ucaps/{ucap_id}/status"):
            response = await reporting.client.get(
                path, params={"as_of": "2019-12-31", "recorded_as_of": "2019-12-31"}
            )
            assert response.status_code == 422, response.text
            assert "recorded_as_of" in response.text
