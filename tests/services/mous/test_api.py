"""The MoUs API against the real Kafka and MongoDB-protocol server."""

import json
from typing import Any

from tests.services.mous.conftest import (
    MOUS_TOPIC,
    MousService,
    city_id,
    registered,
    stakeholder_added,
    unique_mou_id,
)
from tests.support.kafka_reading import read_topic
from tests.support.waiting import eventually


class TestUnknownCities:
    async def test_a_mou_naming_an_unknown_city_is_refused_naming_the_field(
        self, mous: MousService
    ) -> None:
        [granada] = await mous.register_cities("granada")
        mou_id = unique_mou_id("unknown")

        response = await mous.draft(mou_id, [granada, city_id("atlantis"), city_id("lemuria")])

        assert response.status_code == 422
        locs = [problem["loc"] for problem in response.json()["detail"]]
        assert locs == [["body", "parties", 1, "city_id"], ["body", "parties", 2, "city_id"]]
        assert await mous.history_types(mou_id) == []

    async def test_a_city_is_accepted_once_its_registration_arrives(
        self, mous: MousService
    ) -> None:
        [granada] = await mous.register_cities("granada")
        haikou = city_id("haikou")
        mou_id = unique_mou_id("later")
        assert (await mous.draft(mou_id, [granada, haikou])).status_code == 422

        await mous.publish(registered(haikou, "Haikou"))

        async def accepted() -> bool:
            return (await mous.draft(mou_id, [granada, haikou])).status_code == 201

        await eventually(accepted, timeout=60)
        assert (await mous.client.get(f"/mous/{mou_id}")).json()["parties"][1]["city_id"] == haikou


class TestStakeholders:
    async def test_a_party_may_name_only_its_own_stakeholders(self, mous: MousService) -> None:
        [granada, zhengzhou] = await mous.register_cities("granada", "zhengzhou")
        await mous.publish(stakeholder_added(zhengzhou, 2, "chengang-group"))

        async def stakeholder_known() -> bool:
            view = mous.mongo[mous.settings.database]["cities_view"]
            city = await view.find_one({"_id": zhengzhou})
            return city is not None and "chengang-group" in city["stakeholder_ids"]

        await eventually(stakeholder_known, timeout=30)
        parties = [
            {"city_id": granada, "stakeholder_ids": ["chengang-group"]},
            {"city_id": zhengzhou, "stakeholder_ids": ["chengang-group"]},
        ]
        refused = await mous.draft(unique_mou_id("sh"), [], parties=parties)
        parties[0]["stakeholder_ids"] = []
        accepted = await mous.draft(unique_mou_id("sh"), [], parties=parties)

        assert refused.status_code == 422
        assert [p["loc"] for p in refused.json()["detail"]] == [
            ["body", "parties", 0, "stakeholder_ids", 0]
        ]
        assert accepted.status_code == 201


class TestDraftAndRead:
    async def test_a_draft_reads_back_at_once_with_its_history(self, mous: MousService) -> None:
        [granada, kunming] = await mous.register_cities("granada", "kunming")
        mou_id = unique_mou_id("granada-kunming")

        created = await mous.draft(
            mou_id,
            [granada, kunming],
            subject="Cooperation on the Ciba Biotechnology Town project",
            themes=["Life Sciences and Healthy City"],
            documents=[{"title": "Signed text", "url": "https://example.org/mou.pdf"}],
            valid_from="2018-09",
        )
        read = await mous.client.get(f"/mous/{mou_id}")
        history = (await mous.client.get(f"/mous/{mou_id}/history")).json()

        assert created.status_code == 201
        assert read.json() == created.json()
        assert read.json()["status"] == "draft"
        assert read.json()["valid_from"] == "2018-09"
        assert [(e["type"], e["sequence"]) for e in history] == [("ucap.mou.drafted.v1", 1)]

    async def test_an_unknown_mou_is_404_and_an_existing_id_409(self, mous: MousService) -> None:
        [granada, kunming] = await mous.register_cities("granada", "kunming")
        mou_id = unique_mou_id("dup")
        await mous.draft(mou_id, [granada, kunming])

        assert (await mous.draft(mou_id, [granada, kunming])).status_code == 409
        assert (await mous.client.get("/mous/no-such-mou")).status_code == 404
        assert (await mous.client.get("/mous/no-such-mou/history")).status_code == 404
        assert (await mous.sign("no-such-mou", granada)).status_code == 404

    async def test_a_body_with_several_invalid_fields_lists_them_all(
        self, mous: MousService
    ) -> None:
        response = await mous.client.post(
            "/mous", json={"id": "Not A Slug", "title": "", "parties": [], "valid_from": "July"}
        )
        locs = {tuple(problem["loc"]) for problem in response.json()["detail"]}
        assert response.status_code == 422
        assert {("body", "id"), ("body", "title"), ("body", "subject"), ("body", "parties")} <= locs


class TestSigning:
    async def test_all_parties_signing_makes_it_in_force(self, mous: MousService) -> None:
        [granada, zhengzhou] = await mous.register_cities("granada", "zhengzhou")
        mou_id = unique_mou_id("sign")
        await mous.draft(mou_id, [granada, zhengzhou])

        first = await mous.sign(mou_id, granada, place="Zhengzhou", occasion="July 2018 mission")
        second = await mous.sign(mou_id, zhengzhou, "2018-07-20")

        assert first.json()["status"] == "draft"
        assert second.json()["status"] == "in_force"
        # Granada signed in July 2018, on a day not given: maybe after the 20th.
        assert second.json()["signed_on"] == "2018-07"
        assert second.json()["signatures"][0] == {
            "city_id": granada,
            "organisation_id": None,
            "signed_on": "2018-07",
            "place": "Zhengzhou",
            "signatory": None,
            "occasion": "July 2018 mission",
        }

    async def test_signing_twice_for_one_party_is_409_and_emits_nothing(
        self, mous: MousService
    ) -> None:
        [granada, haikou] = await mous.register_cities("granada", "haikou")
        mou_id = unique_mou_id("twice")
        await mous.draft(mou_id, [granada, haikou])
        assert (await mous.sign(mou_id, granada)).status_code == 201

        again = await mous.sign(mou_id, granada, "2018-08")

        assert again.status_code == 409
        assert "already signed" in again.json()["detail"]
        assert await mous.history_types(mou_id) == ["ucap.mou.drafted.v1", "ucap.mou.signed.v1"]

    async def test_a_city_that_is_not_a_party_cannot_sign(self, mous: MousService) -> None:
        [granada, haikou, kunming] = await mous.register_cities("granada", "haikou", "kunming")
        mou_id = unique_mou_id("outsider")
        await mous.draft(mou_id, [granada, haikou])

        outsider = await mous.sign(mou_id, kunming)
        added = await mous.client.post(f"/mous/{mou_id}/parties", json={"city_id": kunming})
        as_party = await mous.sign(mou_id, kunming)

        assert outsider.status_code == 409
        assert added.status_code == 201
        assert as_party.status_code == 201

    async def test_an_expired_mou_accepts_no_signature(self, mous: MousService) -> None:
        [granada, haikou] = await mous.register_cities("granada", "haikou")
        mou_id = unique_mou_id("expired")
        await mous.draft(mou_id, [granada, haikou], valid_until="2020-11")

        response = await mous.sign(mou_id, granada)

        assert response.status_code == 409
        assert (await mous.client.get(f"/mous/{mou_id}")).json()["status"] == "expired"


class TestAmendingAndTerminating:
    async def test_amending_a_terminated_mou_is_409(self, mous: MousService) -> None:
        [granada, liuzhou] = await mous.register_cities("granada", "liuzhou")
        mou_id = unique_mou_id("terminated")
        await mous.draft(mou_id, [granada, liuzhou])
        amended = await mous.client.post(
            f"/mous/{mou_id}/amendments", json={"amended_on": "2019-06", "summary": "Adds pilots"}
        )
        terminated = await mous.client.post(
            f"/mous/{mou_id}/termination", json={"terminated_on": "2020-11", "reason": "Done"}
        )

        late = await mous.client.post(
            f"/mous/{mou_id}/amendments", json={"amended_on": "2021", "summary": "Too late"}
        )

        assert amended.status_code == 201
        assert terminated.json()["status"] == "terminated"
        assert late.status_code == 409
        assert "terminated" in late.json()["detail"]
        assert (await mous.history_types(mou_id))[-1] == "ucap.mou.terminated.v1"


class TestListing:
    async def test_july_2018_keeps_month_precision_and_sorts_before_3_september_2018(
        self, mous: MousService
    ) -> None:
        [granada, zhengzhou, kunming] = await mous.register_cities(
            "granada", "zhengzhou", "kunming"
        )
        september, july = unique_mou_id("a-september"), unique_mou_id("z-july")
        for mou_id, city, on in (
            (september, kunming, "2018-09-03"),
            (july, zhengzhou, "July 2018"),
        ):
            await mous.draft(mou_id, [granada, city])
            await mous.sign(mou_id, granada, on)
            await mous.sign(mou_id, city, on)

        listed = (await mous.client.get("/mous", params={"city": granada})).json()

        assert [item["id"] for item in listed["items"]] == [july, september]
        assert listed["items"][0]["signed_on"] == "2018-07"
        assert listed["items"][0]["signatures"][0]["signed_on"] == "2018-07"

    async def test_filters_and_cursor_pages(self, mous: MousService) -> None:
        [granada, haikou, kunming] = await mous.register_cities("granada", "haikou", "kunming")
        signed = {}
        for index, (city, on) in enumerate(((haikou, "2018-07"), (kunming, "2018-11"))):
            mou_id = unique_mou_id(f"f{index}")
            await mous.draft(mou_id, [granada, city], themes=[f"theme-{city}"])
            await mous.sign(mou_id, granada, on)
            await mous.sign(mou_id, city, on)
            signed[city] = mou_id
        draft_id = unique_mou_id("f-draft")
        await mous.draft(draft_id, [granada, kunming])

        async def ids(**params: Any) -> list[str]:
            body = (await mous.client.get("/mous", params={"city": granada, **params})).json()
            return [item["id"] for item in body["items"]]

        assert await ids(status="draft") == [draft_id]
        assert await ids(status="in_force") == [signed[haikou], signed[kunming]]
        assert await ids(theme=f"theme-{kunming}") == [signed[kunming]]
        assert await ids(signed_from="2018-08", signed_until="2018-12") == [signed[kunming]]
        assert await ids(signed_until="2018-07") == [signed[haikou]]
        assert await ids(city=kunming) == [signed[kunming], draft_id]

        pages: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"city": granada, "limit": 1}
            if cursor:
                params["cursor"] = cursor
            page = (await mous.client.get("/mous", params=params)).json()
            pages += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [signed[haikou], signed[kunming], draft_id]

    async def test_a_bad_cursor_or_date_is_422(self, mous: MousService) -> None:
        bad_cursor = await mous.client.get("/mous", params={"cursor": "nonsense!"})
        bad_date = await mous.client.get("/mous", params={"signed_from": "2018-13"})
        assert bad_cursor.status_code == 422
        assert bad_date.status_code == 422
        assert bad_date.json()["detail"][0]["loc"] == ["query", "signed_from"]


class TestPublishedEvents:
    async def test_every_write_reaches_the_mous_topic_with_its_documented_data(
        self, mous: MousService
    ) -> None:
        [granada, zhengzhou] = await mous.register_cities("granada", "zhengzhou")
        mou_id = unique_mou_id("published")
        await mous.draft(mou_id, [granada, zhengzhou], valid_from="2018-07")
        await mous.sign(mou_id, granada, place="Zhengzhou")

        async def published() -> list[dict[str, Any]] | None:
            records = await read_topic(mous.bootstrap, MOUS_TOPIC)
            events = [json.loads(r.value) for r in records if r.key == mou_id.encode()]
            return events if len(events) == 2 else None

        drafted, signed = await eventually(published, timeout=30)
        assert drafted["type"] == "ucap.mou.drafted.v1"
        assert drafted["data"] == {
            "mou_id": mou_id,
            "title": f"MoU {mou_id}",
            "subject": "Cooperation",
            "parties": [
                {"city_id": granada, "organisation_id": None, "stakeholder_ids": []},
                {"city_id": zhengzhou, "organisation_id": None, "stakeholder_ids": []},
            ],
            "themes": [],
            "valid_from": "2018-07",
            "valid_until": None,
            "documents": [],
            "drafted_on": None,
        }
        assert signed["data"] == {
            "mou_id": mou_id,
            "city_id": granada,
            "organisation_id": None,
            "signed_on": "2018-07",
            "place": "Zhengzhou",
            "signatory": None,
            "occasion": None,
        }


class TestExpiryCheck:
    async def test_the_expiry_check_emits_mou_expired(self, mous: MousService) -> None:
        [granada, haikou] = await mous.register_cities("granada", "haikou")
        mou_id = unique_mou_id("expiring")
        await mous.draft(mou_id, [granada, haikou], valid_until="2020-11")

        first = (await mous.client.post("/mous/expiry-check")).json()
        second = (await mous.client.post("/mous/expiry-check")).json()

        assert mou_id in first["expired"]
        assert mou_id not in second["expired"]

        async def published() -> dict[str, Any] | None:
            records = await read_topic(mous.bootstrap, MOUS_TOPIC)
            events = [json.loads(r.value) for r in records if r.key == mou_id.encode()]
            expired = [e for e in events if e["type"] == "ucap.mou.expired.v1"]
            return expired[0] if expired else None

        event = await eventually(published, timeout=30)
        assert event["data"] == {"mou_id": mou_id, "expired_on": "2020-11"}
        read = (await mous.client.get(f"/mous/{mou_id}")).json()
        assert (read["status"], read["expired_on"]) == ("expired", "2020-11")
