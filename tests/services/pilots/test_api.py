"""The pilots API against the real Kafka and MongoDB-protocol server."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.services.pilots.conftest import PilotsService
from ucap_pilots.sealed_updates import SEALED_RUNS, UPDATES_PER_RUN
from ucap_pilots.views import PILOTS_VIEW

TRANSITIONS = {
    "approve": ({"proposed"}, "approved"),
    "start": ({"approved"}, "in_progress"),
    "hold": ({"approved", "in_progress"}, "on_hold"),
    "resume": ({"on_hold"}, "in_progress"),
    "complete": ({"in_progress"}, "completed"),
    "cancel": ({"proposed", "approved", "in_progress", "on_hold"}, "cancelled"),
}
PATH_TO = {
    "proposed": [],
    "approved": ["approve"],
    "in_progress": ["approve", "start"],
    "on_hold": ["approve", "hold"],
    "completed": ["approve", "start", "complete"],
    "cancelled": ["cancel"],
}
IATI = {
    "proposed": 1,
    "approved": 1,
    "in_progress": 2,
    "completed": 3,
    "cancelled": 5,
    "on_hold": 6,
}
CASES = [(status, action) for status in PATH_TO for action in TRANSITIONS]


async def pilot_in(pilots: PilotsService, cities: list[str], status: str) -> str:
    pilot_id = await pilots.new_pilot(cities[0], cities[1:3])
    for action in PATH_TO[status]:
        response = await pilots.client.post(f"/pilots/{pilot_id}/{action}")
        assert response.status_code == 200, response.text
    return pilot_id


class TestStateMachine:
    @pytest.mark.parametrize(("status", "action"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
    async def test_each_action_in_each_status_is_allowed_exactly_by_the_machine(
        self, pilots: PilotsService, cities: list[str], status: str, action: str
    ) -> None:
        pilot_id = await pilot_in(pilots, cities, status)
        events_before = len(await pilots.history_types(pilot_id))
        sources, target = TRANSITIONS[action]

        response = await pilots.client.post(
            f"/pilots/{pilot_id}/{action}", json={"effective_on": "2020-03", "note": "why"}
        )

        if status in sources:
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["status"] == target
            assert body["iati_status"]["code"] == IATI[target]
            assert body["status_changes"][-1]["effective_on"] == "2020-03"
            assert len(await pilots.history_types(pilot_id)) == events_before + 1
        else:
            assert response.status_code == 409, response.text
            allowed = sorted(a for a, (s, _) in TRANSITIONS.items() if status in s)
            assert sorted(response.json()["context"]["allowed"]) == allowed
            for name in allowed:
                assert name in response.json()["detail"]
            assert len(await pilots.history_types(pilot_id)) == events_before

    async def test_a_status_change_of_an_unknown_pilot_is_404(self, pilots: PilotsService) -> None:
        assert (await pilots.client.post("/pilots/nowhere-x/approve")).status_code == 404


class TestProposing:
    async def test_an_id_not_prefixed_by_the_lead_city_is_refused(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        response = await pilots.propose(cities[0], [cities[1]], id="other-pilot")
        assert response.status_code == 422
        assert [p["loc"] for p in response.json()["detail"]] == [["body", "id"]]

    async def test_unknown_cities_and_mous_are_all_named_at_once(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        response = await pilots.propose(
            cities[0],
            [cities[1], "atlantis-1"],
            mou_ids=["no-such-mou"],
            sdg_goals=[9],
            sdg_targets=["11.3"],
        )
        assert response.status_code == 422
        locs = [p["loc"] for p in response.json()["detail"]]
        assert ["body", "partners", 1, "city_id"] in locs
        assert ["body", "mou_ids", 0] in locs
        assert ["body", "sdg_targets", 0] in locs

    async def test_invalid_fields_are_all_listed(self, pilots: PilotsService) -> None:
        body = {
            "id": "Not A Slug",
            "title": "x" * 201,
            "lead_city_id": "granada",
            "sdg_goals": [18],
            "partners": [{"city_id": "kunming", "role": "sponsor"}],
        }
        response = await pilots.client.post("/pilots", json=body)
        assert response.status_code == 422
        locs = {tuple(p["loc"]) for p in response.json()["detail"]}
        assert {
            ("body", "id"),
            ("body", "title"),
            ("body", "sdg_goals", 0),
            ("body", "partners", 0, "role"),
        } <= locs

    async def test_a_known_mou_links_and_the_lead_is_listed_as_lead(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        mou = await pilots.draft_mou(cities[:2])
        response = await pilots.propose(cities[0], [cities[1]], mou_ids=[mou])
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["mou_ids"] == [mou]
        assert body["partners"][-1] == {"city_id": cities[0], "role": "lead"}

    async def test_proposing_an_existing_id_again_is_409(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        response = await pilots.propose(cities[0], [cities[1]], id=pilot_id)
        assert response.status_code == 409
        assert len(await pilots.history_types(pilot_id)) == 1


class TestRefusedInput:
    async def test_keys_beginning_with_a_dollar_or_holding_a_dot_are_refused(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        body = {
            "id": f"{cities[0]}-sneaky",
            "title": "t",
            "lead_city_id": cities[0],
            "$where": "1 == 1",
            "partners": [{"city_id": cities[1], "role": "partner", "a.b": 1}],
        }
        response = await pilots.client.post("/pilots", json=body)
        assert response.status_code == 422
        locs = [p["loc"] for p in response.json()["detail"]]
        assert ["body", "$where"] in locs
        assert ["body", "partners", 0, "a.b"] in locs
        assert (await pilots.client.get(f"/pilots/{cities[0]}-sneaky")).status_code == 404

    async def test_a_body_over_the_limit_is_413(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        big = {"id": f"{cities[0]}-big", "title": "t", "lead_city_id": cities[0]}
        big["description"] = "x" * (pilots.settings.max_body_bytes + 10)
        response = await pilots.client.post("/pilots", json=big)
        assert response.status_code == 413
        assert response.json()["error"] == "too_large"
        assert (await pilots.client.get(f"/pilots/{cities[0]}-big")).status_code == 404

    async def test_a_streamed_body_over_the_limit_is_413(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"id": "x", "description": "'
            for _ in range(pilots.settings.max_body_bytes // 1000 + 2):
                yield b"x" * 1000
            yield b'"}'

        response = await pilots.client.post(
            "/pilots", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413

    async def test_a_body_within_the_limit_passes(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        response = await pilots.propose(cities[0], [], description="x" * 4000)
        assert response.status_code == 201, response.text


class TestEditingDetails:
    async def test_only_changed_fields_are_recorded_and_null_clears_the_cluster(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]], cluster="Smart City")
        response = await pilots.client.patch(
            f"/pilots/{pilot_id}", json={"cluster": None, "title": "A pilot", "themes": ["T"]}
        )
        assert response.status_code == 200, response.text
        assert response.json()["cluster"] is None
        history = (await pilots.client.get(f"/pilots/{pilot_id}/history")).json()
        assert history[-1]["data"] == {"pilot_id": pilot_id, "cluster": None, "themes": ["T"]}

    async def test_unknown_partner_and_null_title_are_422(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        response = await pilots.client.patch(f"/pilots/{pilot_id}", json={"title": None})
        assert response.status_code == 422
        partners = [{"city_id": cities[0], "role": "lead"}, {"city_id": "nope", "role": "partner"}]
        response = await pilots.client.patch(f"/pilots/{pilot_id}", json={"partners": partners})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "partners", 1, "city_id"]


class TestMilestonesFundingIndicators:
    async def test_a_past_milestone_not_done_is_overdue_and_completing_it_clears_that(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        for mid, planned in (("w1", "2020-07"), ("w2", "2020-09"), ("later", "2999-01")):
            response = await pilots.client.post(
                f"/pilots/{pilot_id}/milestones",
                json={"id": mid, "title": f"Webinar {mid}", "planned_on": planned},
            )
            assert response.status_code == 201, response.text
        assert response.json()["overdue_milestones"] == ["w1", "w2"]
        response = await pilots.client.post(
            f"/pilots/{pilot_id}/milestones/w1/complete", json={"completed_on": "2020-07-15"}
        )
        body = response.json()
        assert body["overdue_milestones"] == ["w2"]
        assert [m["status"] for m in body["milestones"]] == ["done", "overdue", "planned"]
        again = await pilots.client.post(
            f"/pilots/{pilot_id}/milestones/w1/complete", json={"completed_on": "2020-07-16"}
        )
        assert again.status_code == 409

    async def test_a_funding_award_reads_back_with_category_and_a_duplicate_is_409(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        award = {"funder": "IUC competitive fund", "category": "gold", "awarded_on": "2019-09"}
        response = await pilots.client.post(f"/pilots/{pilot_id}/funding", json=award)
        assert response.status_code == 201
        assert response.json()["funding"][0]["category"] == "gold"
        assert response.json()["funding"][0]["awarded_on"] == "2019-09"
        again = await pilots.client.post(f"/pilots/{pilot_id}/funding", json=award)
        assert again.status_code == 409

    async def test_indicator_actuals_come_from_progress_updates(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        indicator = {
            "id": "participants",
            "name": "Participants",
            "unit": "people",
            "baseline": {"value": 0, "on": "2020-06"},
            "target": {"value": 300, "on": "2020-11"},
        }
        assert (
            await pilots.client.post(f"/pilots/{pilot_id}/indicators", json=indicator)
        ).status_code == 201
        for key, value, day in (("k1", 120, "2020-07-15"), ("k2", 250, "2020-09-20")):
            response = await pilots.client.post(
                f"/pilots/{pilot_id}/progress",
                json={
                    "reported_on": day,
                    "reporting_city_id": cities[1],
                    "summary": "Webinar held",
                    "indicator_values": [{"indicator_id": "participants", "value": value}],
                },
                headers={"Idempotency-Key": key},
            )
            assert response.status_code == 201, response.text
        pilot = (await pilots.client.get(f"/pilots/{pilot_id}")).json()
        (indicator_out,) = pilot["indicators"]
        assert [(a["value"], a["on"]) for a in indicator_out["actuals"]] == [
            (120, "2020-07-15"),
            (250, "2020-09-20"),
        ]
        assert indicator_out["latest"]["value"] == 250
        assert pilot["days_since_last_update"] == 0


def progress(city: str, **fields: Any) -> dict[str, Any]:
    return {"reported_on": "2020-07", "reporting_city_id": city, "summary": "Done", **fields}


class TestIdempotentProgress:
    async def test_one_key_sent_ten_times_concurrently_records_one_update_and_one_event(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        key = f"report-{uuid.uuid4()}"

        async def send() -> httpx.Response:
            return await pilots.client.post(
                f"/pilots/{pilot_id}/progress",
                json=progress(cities[1]),
                headers={"Idempotency-Key": key},
            )

        responses = await asyncio.gather(*(send() for _ in range(10)))

        assert {r.status_code for r in responses} == {201}
        assert len({r.text for r in responses}) == 1
        assert [r.headers["Idempotent-Replayed"] for r in responses].count("false") == 1
        types = await pilots.history_types(pilot_id)
        assert types.count("ucap.pilot.progress_reported.v1") == 1
        assert len((await pilots.client.get(f"/pilots/{pilot_id}")).json()["updates"]) == 1

    async def test_different_keys_sent_concurrently_are_all_recorded(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1], cities[2]])
        responses = await asyncio.gather(
            *(
                pilots.client.post(
                    f"/pilots/{pilot_id}/progress",
                    json=progress(cities[1 + n % 2], idempotency_key=f"k-{n}"),
                )
                for n in range(8)
            )
        )
        assert {r.status_code for r in responses} == {201}
        assert (await pilots.history_types(pilot_id)).count("ucap.pilot.progress_reported.v1") == 8

    async def test_a_long_history_reads_back_whole_and_in_order(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        summaries = [f"Update {n}" for n in range(2 * UPDATES_PER_RUN + 20)]
        for n, summary in enumerate(summaries):
            response = await pilots.client.post(
                f"/pilots/{pilot_id}/progress",
                json=progress(cities[1], summary=summary, idempotency_key=f"k-{n}"),
            )
            assert response.status_code == 201, response.text

        one = (await pilots.client.get(f"/pilots/{pilot_id}")).json()
        listed = (await pilots.client.get("/pilots", params={"city": cities[0]})).json()

        assert [update["summary"] for update in one["updates"]] == summaries
        (item,) = [item for item in listed["items"] if item["id"] == pilot_id]
        assert item["updates"] == one["updates"]
        view = pilots.mongo[pilots.settings.database][PILOTS_VIEW]
        document = await view.find_one({"_id": pilot_id})
        assert document is not None
        assert document[SEALED_RUNS] == 2

    async def test_a_key_reused_for_another_update_is_409_and_a_missing_key_422(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        url = f"/pilots/{pilot_id}/progress"
        first = await pilots.client.post(url, json=progress(cities[1], idempotency_key="same"))
        assert first.status_code == 201
        other = await pilots.client.post(
            url, json=progress(cities[1], summary="Other", idempotency_key="same")
        )
        assert other.status_code == 409
        assert (await pilots.client.post(url, json=progress(cities[1]))).status_code == 422

    async def test_a_report_from_a_city_outside_the_pilot_or_of_an_unknown_milestone_is_422(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        response = await pilots.client.post(
            f"/pilots/{pilot_id}/progress",
            json=progress(cities[3], milestone_id="nope"),
            headers={"Idempotency-Key": "x"},
        )
        assert response.status_code == 422
        locs = [p["loc"] for p in response.json()["detail"]]
        assert locs == [["body", "reporting_city_id"], ["body", "milestone_id"]]

    async def test_a_milestone_reported_reached_is_completed(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        await pilots.client.post(
            f"/pilots/{pilot_id}/milestones",
            json={"id": "w1", "title": "Webinar", "planned_on": "2020-07"},
        )
        response = await pilots.client.post(
            f"/pilots/{pilot_id}/progress",
            json=progress(cities[1], milestone_id="w1", reported_on="2020-07-15"),
            headers={"Idempotency-Key": "w1-done"},
        )
        assert response.status_code == 201
        pilot = (await pilots.client.get(f"/pilots/{pilot_id}")).json()
        assert pilot["milestones"][0]["completed_on"] == "2020-07-15"
        assert (await pilots.history_types(pilot_id))[-1] == "ucap.pilot.milestone_completed.v1"


class TestAsOf:
    async def test_as_of_returns_the_earlier_state_after_later_changes(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]], title="First title")
        proposed_at = (await pilots.client.get(f"/pilots/{pilot_id}/history")).json()[0]["time"]
        await pilots.client.post(f"/pilots/{pilot_id}/approve")
        await pilots.client.patch(f"/pilots/{pilot_id}", json={"title": "Second title"})

        then = await pilots.client.get(f"/pilots/{pilot_id}", params={"as_of": proposed_at})
        now = await pilots.client.get(f"/pilots/{pilot_id}")

        assert then.status_code == 200, then.text
        assert (then.json()["status"], then.json()["title"]) == ("proposed", "First title")
        assert (now.json()["status"], now.json()["title"]) == ("approved", "Second title")

    async def test_as_of_a_day_before_the_pilot_existed_is_404_and_a_bad_date_422(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        url = f"/pilots/{pilot_id}"
        assert (await pilots.client.get(url, params={"as_of": "2019-12-31"})).status_code == 404
        assert (await pilots.client.get(url, params={"as_of": "2999-12-31"})).status_code == 200
        assert (await pilots.client.get(url, params={"as_of": "yesterday"})).status_code == 422


class TestListing:
    async def test_filters_and_cursor_pagination(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        lead, kunming, haikou, _ = cities
        ucap = await pilots.create_ucap(lead, [kunming, haikou])
        a = await pilots.new_pilot(lead, [kunming], ucap_id=ucap, sdg_goals=[3], themes=["Life"])
        b = await pilots.new_pilot(lead, [haikou], ucap_id=ucap, cluster="Smart City")
        response = await pilots.client.post(
            "/pilots",
            json={
                "id": f"{lead}-funded-{ucap}",
                "title": "Funded",
                "lead_city_id": lead,
                "partners": [{"city_id": kunming, "role": "funding"}],
                "ucap_id": ucap,
            },
        )
        c = response.json()["id"]
        await pilots.client.post(f"/pilots/{b}/approve")

        async def ids(**params: Any) -> list[str]:
            response = await pilots.client.get("/pilots", params={"ucap": ucap, **params})
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await ids() == sorted([a, b, c])
        assert await ids(city=kunming) == sorted([a, c])
        assert await ids(city=kunming, role="funding") == [c]
        assert await ids(role="funding") == [c]
        assert await ids(status="approved") == [b]
        assert await ids(cluster="Smart City") == [b]
        assert await ids(theme="Life") == [a]
        assert await ids(sdg=3) == [a]
        assert await ids(updated_since="2999-01-01") == []
        assert await ids(updated_since="2020-01-01") == sorted([a, b, c])

        first = (await pilots.client.get("/pilots", params={"ucap": ucap, "limit": 2})).json()
        rest = (
            await pilots.client.get(
                "/pilots", params={"ucap": ucap, "limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        assert [i["id"] for i in first["items"] + rest["items"]] == sorted([a, b, c])
        assert rest["next_cursor"] is None
