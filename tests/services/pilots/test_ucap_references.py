"""A pilot names a U-CAP only if its lead city takes part in it, as reporting's events say:
an unknown U-CAP, or one the lead has no part in, is 422 naming ``ucap_id``, and nothing
is appended. Issue 15: ``city:barcelona`` proposed a pilot of Granada's U-CAP."""

import json
import uuid
from typing import Any

import httpx

from tests.services.pilots.conftest import PilotsService, publish
from tests.support.auth import bearer, city_publisher
from tests.support.waiting import eventually
from ucap_pilots.views import UCAPS_VIEW
from ucap_shared.envelope import Envelope
from ucap_shared.topics import events_topic


def problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail


def cities_changed(ucap: str, sequence: int, lead: str, counterparts: list[str]) -> Envelope:
    others = "title period themes sdgs urban_agenda_themes key_challenges main_objectives"
    nulls = dict.fromkeys([*others.split(), "expected_results", "contact", "deliverables"])
    return Envelope(
        source="ucap/reporting",
        type="ucap.ucap.section_updated.v1",
        subject=ucap,
        sequence=sequence,
        data={
            "ucap_id": ucap,
            "section": "cities",
            **nulls,
            "lead_city_id": lead,
            "counterpart_city_ids": counterparts,
        },
        actor="test",
    )


class TestProposingAPilotOfAUcap:
    async def test_an_unknown_ucap_is_422_naming_ucap_id_and_appends_nothing(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        lead, partner, *_ = cities
        response = await pilots.propose(lead, [partner], ucap_id=f"ucap-{uuid.uuid4().hex[:8]}")

        (problem,) = problems(response)
        assert problem["loc"] == ["body", "ucap_id"]
        assert "unknown U-CAP" in problem["msg"]
        assert "retry" in problem["msg"]
        assert await pilots.version(json.loads(response.request.content)["id"]) == 0

    async def test_a_ucap_the_lead_has_no_part_in_is_422_even_for_its_publisher(
        self, pilots: PilotsService
    ) -> None:
        granada, kunming, barcelona = await pilots.register_cities("granada", "kunming", "bcn")
        ucap = await pilots.create_ucap(granada, [kunming])
        pilot_id = f"{barcelona}-intruder"
        response = await pilots.client.post(
            "/pilots",
            json={
                "id": pilot_id,
                "title": "Overdue since 2000",
                "lead_city_id": barcelona,
                "ucap_id": ucap,
            },
            headers=bearer("pilots", city_publisher(barcelona)),
        )

        (problem,) = problems(response)
        assert problem["loc"] == ["body", "ucap_id"]
        assert barcelona in problem["msg"]
        assert ucap in problem["msg"]
        assert await pilots.version(pilot_id) == 0

    async def test_the_ucaps_lead_or_a_counterpart_may_lead_a_pilot_of_it(
        self, pilots: PilotsService
    ) -> None:
        granada, kunming = await pilots.register_cities("granada", "kunming")
        ucap = await pilots.create_ucap(granada, [kunming])

        by_lead = await pilots.propose(granada, [kunming], ucap_id=ucap)
        by_counterpart = await pilots.propose(kunming, [granada], ucap_id=ucap)

        assert by_lead.status_code == 201, by_lead.text
        assert by_counterpart.status_code == 201, by_counterpart.text
        assert by_counterpart.json()["ucap_id"] == ucap


class TestChangingAPilotsUcap:
    async def test_naming_a_ucap_the_lead_has_no_part_in_is_422_and_appends_nothing(
        self, pilots: PilotsService
    ) -> None:
        granada, kunming, haikou = await pilots.register_cities("granada", "kunming", "haikou")
        own = await pilots.create_ucap(granada, [kunming])
        other = await pilots.create_ucap(haikou, [kunming])
        pilot_id = await pilots.new_pilot(granada, [kunming], ucap_id=own)
        version = await pilots.version(pilot_id)

        foreign = await pilots.client.patch(f"/pilots/{pilot_id}", json={"ucap_id": other})
        unknown = await pilots.client.patch(f"/pilots/{pilot_id}", json={"ucap_id": "no-ucap"})
        cleared = await pilots.client.patch(f"/pilots/{pilot_id}", json={"ucap_id": None})

        assert [p["loc"] for p in problems(foreign)] == [["body", "ucap_id"]]
        assert [p["loc"] for p in problems(unknown)] == [["body", "ucap_id"]]
        assert cleared.status_code == 200, cleared.text
        assert await pilots.version(pilot_id) == version + 1

    async def test_a_city_that_joins_the_ucap_may_then_name_it(self, pilots: PilotsService) -> None:
        granada, kunming, haikou = await pilots.register_cities("granada", "kunming", "haikou")
        ucap = await pilots.create_ucap(granada, [kunming])
        pilot_id = await pilots.new_pilot(haikou, [kunming])
        assert (
            await pilots.client.patch(f"/pilots/{pilot_id}", json={"ucap_id": ucap})
        ).status_code == 422

        await publish(
            pilots.bootstrap,
            events_topic("reporting"),
            cities_changed(ucap, 2, granada, [kunming, haikou]),
        )

        async def joined() -> bool:
            view = pilots.mongo[pilots.settings.database][UCAPS_VIEW]
            found = await view.find_one({"_id": ucap})
            return found is not None and haikou in found["counterpart_city_ids"]

        await eventually(joined, timeout=60)
        named = await pilots.client.patch(f"/pilots/{pilot_id}", json={"ucap_id": ucap})
        assert named.status_code == 200, named.text
