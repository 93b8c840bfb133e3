"""MoUs whose parties are organisations: a city's stakeholder (B2B) or one with no city;
signatures whose date is not known. Against the real Kafka and MongoDB-protocol server."""

import json
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import pytest

from tests.services.mous.conftest import (
    MOUS_TOPIC,
    MousService,
    city_event,
    city_id,
    registered,
    stakeholder_added,
    start_mous,
    unique_mou_id,
)
from tests.support.infra import Infra
from tests.support.kafka_reading import read_topic
from tests.support.waiting import eventually
from ucap_mous.views import CITIES_VIEW, ORGANISATIONS_VIEW
from ucap_shared.envelope import Envelope

FIRA = "fira-de-barcelona"


def organisation_registered(organisation_id: str, name: str) -> Envelope:
    return Envelope(
        source="ucap/cities",
        type="ucap.organisation.registered.v1",
        subject=organisation_id,
        sequence=1,
        data={
            "organisation_id": organisation_id,
            "name": name,
            "native_name": None,
            "kind": "other",
            "scope": "international",
            "country": None,
            "website": None,
        },
        actor="test",
    )


@pytest.fixture(scope="module")
async def mous(infra: Infra) -> AsyncIterator[MousService]:
    async for service in start_mous(infra, "organisations"):
        yield service


async def known(mous: MousService, view: str, key: str, stakeholders: int = 0) -> bool:
    document = await mous.mongo[mous.settings.database][view].find_one({"_id": key})
    return document is not None and len(document.get("stakeholder_ids", [])) >= stakeholders


async def barcelona_and_tianfu(mous: MousService) -> tuple[str, str]:
    """Barcelona with its stakeholder Fira de Barcelona, and Tianfu New District (a new area)."""
    barcelona, tianfu = city_id("barcelona"), city_id("tianfu-new-district")
    tianfu_registered = registered(tianfu, "Tianfu New District")
    tianfu_registered.data["kind"] = "new_area"
    await mous.publish(
        registered(barcelona, "Barcelona", "ES"),
        stakeholder_added(barcelona, 2, FIRA),
        tianfu_registered,
    )
    await eventually(partial(known, mous, CITIES_VIEW, barcelona, 1), timeout=60)
    await eventually(partial(known, mous, CITIES_VIEW, tianfu), timeout=60)
    return barcelona, tianfu


async def the_fund(mous: MousService) -> str:
    fund = city_id("uk-china-biotech-fund")
    await mous.publish(organisation_registered(fund, "UK-China Biotech Fund"))
    await eventually(partial(known, mous, ORGANISATIONS_VIEW, fund), timeout=60)
    return fund


async def draft(mous: MousService, mou_id: str, parties: list[dict[str, Any]]) -> httpx.Response:
    body = {"id": mou_id, "title": f"MoU {mou_id}", "subject": "Cooperation", "parties": parties}
    return await mous.client.post("/mous", json=body)


async def sign(mous: MousService, mou_id: str, **body: Any) -> httpx.Response:
    return await mous.client.post(f"/mous/{mou_id}/signatures", json=body)


def problem_locs(response: httpx.Response) -> list[list[str | int]]:
    assert response.status_code == 422, response.text
    return [problem["loc"] for problem in response.json()["detail"]]


async def published(mous: MousService, mou_id: str, count: int) -> list[dict[str, Any]] | None:
    records = await read_topic(mous.bootstrap, MOUS_TOPIC)
    events = [json.loads(r.value) for r in records if r.key == mou_id.encode()]
    return events if len(events) >= count else None


class TestABusinessToBusinessMou:
    async def test_fira_de_barcelona_and_tianfu_new_district_draft_and_sign_it(
        self, mous: MousService
    ) -> None:
        barcelona, tianfu = await barcelona_and_tianfu(mous)
        mou_id = unique_mou_id("fira-tianfu")
        parties = [{"city_id": barcelona, "organisation_id": FIRA}, {"city_id": tianfu}]

        drafted = await draft(mous, mou_id, parties)
        fira_signed = await sign(
            mous, mou_id, city_id=barcelona, organisation_id=FIRA, signed_on="2019-05"
        )
        signed = await sign(mous, mou_id, city_id=tianfu, signed_on="2019-06-20")

        assert drafted.status_code == 201, drafted.text
        assert drafted.json()["parties"] == [
            {"city_id": barcelona, "organisation_id": FIRA, "stakeholder_ids": []},
            {"city_id": tianfu, "organisation_id": None, "stakeholder_ids": []},
        ]
        assert fira_signed.json()["status"] == "draft"
        assert signed.json()["status"] == "in_force"
        assert signed.json()["signed_on"] == "2019-06-20"
        listed = (await mous.client.get("/mous", params={"city": barcelona})).json()
        assert [m["id"] for m in listed["items"]] == [mou_id]

        events = await eventually(partial(published, mous, mou_id, 3), timeout=30)
        assert events[0]["data"]["parties"][0]["organisation_id"] == FIRA
        assert events[1]["type"] == "ucap.mou.signed.v1"
        assert events[1]["data"]["city_id"] == barcelona
        assert events[1]["data"]["organisation_id"] == FIRA

    async def test_the_city_itself_has_not_signed_for_its_stakeholder(
        self, mous: MousService
    ) -> None:
        barcelona, tianfu = await barcelona_and_tianfu(mous)
        mou_id = unique_mou_id("fira-only")
        parties = [{"city_id": barcelona, "organisation_id": FIRA}, {"city_id": tianfu}]
        assert (await draft(mous, mou_id, parties)).status_code == 201

        by_the_city = await sign(mous, mou_id, city_id=barcelona, signed_on="2019-05")

        assert by_the_city.status_code == 409, by_the_city.text

    async def test_an_organisation_that_is_not_the_citys_stakeholder_is_422(
        self, mous: MousService
    ) -> None:
        barcelona, tianfu = await barcelona_and_tianfu(mous)
        parties = [{"city_id": barcelona, "organisation_id": "nobody"}, {"city_id": tianfu}]

        response = await draft(mous, unique_mou_id("stranger"), parties)

        assert problem_locs(response) == [["body", "parties", 0, "organisation_id"]]


class TestAnOrganisationWithNoCity:
    async def test_the_uk_china_biotech_fund_is_a_party_and_signs_on_an_unknown_date(
        self, mous: MousService
    ) -> None:
        [granada] = await mous.register_cities("granada")
        fund = await the_fund(mous)
        mou_id = unique_mou_id("granada-fund")

        drafted = await draft(mous, mou_id, [{"city_id": granada}, {"organisation_id": fund}])
        await sign(mous, mou_id, city_id=granada, signed_on="2019-03")
        signed = await sign(mous, mou_id, organisation_id=fund, signed_on=None)

        assert drafted.status_code == 201, drafted.text
        assert signed.status_code == 201, signed.text
        mou = signed.json()
        assert mou["status"] == "in_force"
        assert mou["signed_on"] is None
        assert mou["signatures"][1] == {
            "city_id": None,
            "organisation_id": fund,
            "signed_on": None,
            "place": None,
            "signatory": None,
            "occasion": None,
        }
        again = (await mous.client.get(f"/mous/{mou_id}")).json()
        assert (again["status"], again["signed_on"]) == ("in_force", None)
        undated = (await mous.client.get("/mous", params={"status": "in_force"})).json()
        assert mou_id in [m["id"] for m in undated["items"]]
        events = await eventually(partial(published, mous, mou_id, 3), timeout=30)
        assert events[2]["data"]["signed_on"] is None
        assert events[2]["data"]["organisation_id"] == fund

    async def test_an_unknown_organisation_or_stakeholders_of_none_are_422(
        self, mous: MousService
    ) -> None:
        [granada] = await mous.register_cities("granada")
        fund = await the_fund(mous)

        unknown = await draft(
            mous, unique_mou_id("unknown"), [{"city_id": granada}, {"organisation_id": "nobody"}]
        )
        stakeholders = await draft(
            mous,
            unique_mou_id("stakeholders"),
            [{"city_id": granada}, {"organisation_id": fund, "stakeholder_ids": ["x"]}],
        )
        nameless = await draft(mous, unique_mou_id("nameless"), [{"city_id": granada}, {}])
        twice = await draft(
            mous,
            unique_mou_id("twice"),
            [{"city_id": granada}, {"organisation_id": fund}, {"organisation_id": fund}],
        )

        assert problem_locs(unknown) == [["body", "parties", 1, "organisation_id"]]
        assert problem_locs(stakeholders) == [["body", "parties", 1, "stakeholder_ids"]]
        assert problem_locs(nameless)[0][:4] == ["body", "parties", 1]
        assert problem_locs(twice) == [["body", "parties", 2, "organisation_id"]]

    async def test_an_organisation_added_as_a_party_later(self, mous: MousService) -> None:
        [granada, kunming] = await mous.register_cities("granada", "kunming")
        fund = await the_fund(mous)
        mou_id = unique_mou_id("added")
        await mous.draft(mou_id, [granada, kunming])

        added = await mous.client.post(f"/mous/{mou_id}/parties", json={"organisation_id": fund})
        again = await mous.client.post(f"/mous/{mou_id}/parties", json={"organisation_id": fund})

        assert added.status_code == 201, added.text
        assert added.json()["parties"][2]["organisation_id"] == fund
        assert again.status_code == 409


class TestSignaturesOfUnknownDate:
    async def test_signed_on_is_required_but_may_be_null(self, mous: MousService) -> None:
        [granada, haikou] = await mous.register_cities("granada", "haikou")
        mou_id = unique_mou_id("undated")
        await mous.draft(mou_id, [granada, haikou])

        missing = await sign(mous, mou_id, city_id=granada)
        first = await sign(mous, mou_id, city_id=granada, signed_on=None)
        twice = await sign(mous, mou_id, city_id=granada, signed_on="2018-07")
        second = await sign(mous, mou_id, city_id=haikou, signed_on="2018-07")

        assert problem_locs(missing) == [["body", "signed_on"]]
        assert first.json()["status"] == "draft"
        assert twice.status_code == 409
        assert second.json()["status"] == "in_force"
        assert second.json()["signed_on"] is None

    async def test_a_signature_by_an_organisation_not_a_party_is_409(
        self, mous: MousService
    ) -> None:
        [granada, haikou] = await mous.register_cities("granada", "haikou")
        fund = await the_fund(mous)
        mou_id = unique_mou_id("not-party")
        await mous.draft(mou_id, [granada, haikou])

        response = await sign(mous, mou_id, organisation_id=fund, signed_on=None)

        assert response.status_code == 409, response.text


class TestOtherEventsOnTheCitiesTopic:
    async def test_a_type_the_cities_service_adds_is_skipped_not_dead_lettered(
        self, mous: MousService
    ) -> None:
        """Had the unread type been dead-lettered, its stream would not have moved past it,
        and the next event of the same stream would be held, never applied."""
        stream = city_id("shared-stream")
        unread = Envelope(
            source="ucap/cities",
            type="ucap.organisation.renamed.v1",
            subject=stream,
            sequence=1,
            data={"organisation_id": stream},
            actor="test",
        )
        next_one = city_event(stream, 2, "ucap.city.registered.v1", dict(registered(stream).data))
        await mous.publish(unread, next_one)
        await eventually(partial(mous.city_known, stream), timeout=60)
