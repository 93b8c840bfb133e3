"""Through the API: dates at both ends of the calendar in every date field of a pilot and
as ``as_of`` or ``updated_since`` never give a server error; a command that would grow a
pilot past its limits is 409, naming the limit, and appends nothing."""

import asyncio
from typing import Any

import pytest

from tests.services.pilots.conftest import PilotsService
from ucap_pilots import capacity

EXTREMES = ["0001", "0001-01", "0001-01-01", "9999", "9999-12", "9999-12-31"]


def server_errors(answers: dict[str, Any]) -> dict[str, Any]:
    return {what: (a.status_code, a.text) for what, a in answers.items() if a.status_code >= 500}


class TestEveryDateAtBothEnds:
    async def test_milestones_awards_indicators_progress_and_status_changes(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        lead, partner, *_ = cities
        pilot_id = await pilots.new_pilot(lead, [partner])
        path = f"/pilots/{pilot_id}"
        post = pilots.client.post
        answers = {}
        for n, on in enumerate(EXTREMES):
            answers[f"milestone {on}"] = await post(
                f"{path}/milestones", json={"id": f"m{n}", "title": on, "planned_on": on}
            )
            answers[f"award {on}"] = await post(
                f"{path}/funding", json={"id": f"a{n}", "funder": "Fund", "awarded_on": on}
            )
            answers[f"indicator {on}"] = await post(
                f"{path}/indicators",
                json={
                    "id": f"i{n}",
                    "name": on,
                    "unit": "people",
                    "baseline": {"value": 0, "on": on},
                    "target": {"value": 1, "on": on},
                },
            )
            answers[f"progress {on}"] = await post(
                f"{path}/progress",
                json={
                    "reported_on": on,
                    "reporting_city_id": lead,
                    "summary": on,
                    "indicator_values": [{"indicator_id": f"i{n}", "value": 1}],
                    "milestone_id": f"m{n}" if n % 2 else None,
                },
                headers={"Idempotency-Key": f"{pilot_id}-{on}"},
            )
        answers["complete 0001"] = await post(
            f"{path}/milestones/m0/complete", json={"completed_on": "0001-01-01"}
        )
        answers["complete 9999"] = await post(
            f"{path}/milestones/m2/complete", json={"completed_on": "9999-12-31"}
        )
        answers["approve"] = await post(f"{path}/approve", json={"effective_on": "0001"})
        answers["start"] = await post(f"{path}/start", json={"effective_on": "9999-12-31"})

        assert server_errors(answers) == {}
        assert {what: a.status_code for what, a in answers.items()} == {
            what: 200 if what.startswith(("complete", "approve", "start")) else 201
            for what in answers
        }
        body = (await pilots.client.get(path)).json()
        assert {m["id"]: m["status"] for m in body["milestones"]} == {
            "m0": "done",
            "m1": "done",
            "m2": "done",
            "m3": "done",
            "m4": "planned",
            "m5": "done",
        }

    @pytest.mark.parametrize(
        ("moment", "status"),
        [
            ("0001", 404),
            ("0001-01-01", 404),
            ("0001-01-01T00:00:00", 404),
            ("0001-01-01T00:00:00+00:00", 404),
            ("9999", 200),
            ("9999-12-31", 200),
            ("9999-12-31T23:59:59.999999+00:00", 200),
            ("0001-01-01T00:00:00+05:00", 422),
            ("9999-12-31T23:00:00-05:00", 422),
            ("0000-12-31", 422),
        ],
    )
    async def test_as_of_and_updated_since(
        self, pilots: PilotsService, cities: list[str], moment: str, status: int
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])

        read = await pilots.client.get(f"/pilots/{pilot_id}", params={"as_of": moment})
        listed = await pilots.client.get("/pilots", params={"updated_since": moment})

        assert read.status_code == status, read.text
        assert listed.status_code == (422 if status == 422 else 200), listed.text


class TestLimitsAtTheCommand:
    async def test_a_milestone_past_the_most_a_pilot_holds_is_409_and_appends_nothing(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        for n in range(capacity.MAX_MILESTONES):
            added = await pilots.client.post(
                f"/pilots/{pilot_id}/milestones",
                json={"id": f"m{n}", "title": f"M{n}", "planned_on": "2030"},
            )
            assert added.status_code == 201, added.text
        version = await pilots.version(pilot_id)

        refused = await pilots.client.post(
            f"/pilots/{pilot_id}/milestones",
            json={"id": "one-more", "title": "One more", "planned_on": "2030"},
        )

        assert refused.status_code == 409, refused.text
        assert f"at most {capacity.MAX_MILESTONES}" in refused.json()["detail"]
        assert await pilots.version(pilot_id) == version

    async def test_a_progress_update_too_large_to_copy_into_a_status_is_409(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        lead = cities[0]
        pilot_id = await pilots.new_pilot(lead, [cities[1]])

        refused = await pilots.client.post(
            f"/pilots/{pilot_id}/progress",
            json={"reported_on": "2030", "reporting_city_id": lead, "summary": "\U0001d11e" * 5000},
            headers={"Idempotency-Key": f"{pilot_id}-wide"},
        )

        assert refused.status_code == 409, refused.text
        assert "profile and latest update" in refused.json()["detail"]
        assert await pilots.version(pilot_id) == 1


class TestPilotsPerUcap:
    async def test_a_full_ucap_takes_no_more_pilots_even_from_concurrent_proposals(
        self, pilots: PilotsService, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(capacity, "MAX_PILOTS_PER_UCAP", 3)
        granada, kunming = await pilots.register_cities("granada", "kunming")
        ucap = await pilots.create_ucap(granada, [kunming])
        first = await pilots.new_pilot(granada, [kunming], ucap_id=ucap)

        answers = await asyncio.gather(
            *(pilots.propose(granada, [kunming], ucap_id=ucap) for _ in range(6))
        )
        moved = await pilots.client.patch(f"/pilots/{first}", json={"title": "Still in"})

        assert sorted(a.status_code for a in answers) == [201, 201, 409, 409, 409, 409]
        refused = next(a for a in answers if a.status_code == 409)
        assert "the most one U-CAP holds" in refused.json()["detail"]
        assert moved.status_code == 200, moved.text
        listed = await pilots.client.get("/pilots", params={"ucap": ucap})
        assert len(listed.json()["items"]) == 3
