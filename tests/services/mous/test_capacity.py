"""A city is party to at most ``MOUS_PER_CITY`` MoUs, a MoU has at most ``MAX_PARTIES``
parties: the command past either is 409 in the one error body, and appends nothing."""

import httpx

from tests.services.mous.conftest import MousService, unique_mou_id
from ucap_mous.capacity import MAX_PARTIES, MOUS_PER_CITY


async def fill(mous: MousService, city: str, partner: str) -> None:
    """Make ``city`` (and ``partner``) party to ``MOUS_PER_CITY`` MoUs."""
    for _ in range(MOUS_PER_CITY):
        response = await mous.draft(unique_mou_id("fill"), [city, partner])
        assert response.status_code == 201, response.text


def assert_refused(response: httpx.Response, *named: str) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "conflict"
    for text in named:
        assert text in body["detail"]
    assert body["context"]["limit"] == int(named[-1])


class TestACityPartyToAsManyMousAsItMayBe:
    async def test_its_next_draft_is_refused_and_appends_nothing(self, mous: MousService) -> None:
        full, partner, other = await mous.register_cities("full", "partner", "other")
        await fill(mous, full, partner)
        mou_id = unique_mou_id("past")

        response = await mous.draft(mou_id, [other, full])

        assert_refused(response, full, str(MOUS_PER_CITY))
        assert await mous.version(mou_id) == 0
        assert (await mous.client.get(f"/mous/{mou_id}")).status_code == 404

    async def test_it_is_not_added_as_a_party_and_nothing_is_appended(
        self, mous: MousService
    ) -> None:
        full, partner, first, second = await mous.register_cities(
            "full", "partner", "first", "second"
        )
        await fill(mous, full, partner)
        mou_id = unique_mou_id("open")
        assert (await mous.draft(mou_id, [first, second])).status_code == 201

        response = await mous.client.post(f"/mous/{mou_id}/parties", json={"city_id": full})

        assert_refused(response, full, str(MOUS_PER_CITY))
        assert await mous.history_types(mou_id) == ["ucap.mou.drafted.v1"]
        parties = (await mous.client.get(f"/mous/{mou_id}")).json()["parties"]
        assert [party["city_id"] for party in parties] == [first, second]


class TestAMouWithAsManyPartiesAsItMayHave:
    async def test_takes_no_more_and_appends_nothing(self, mous: MousService) -> None:
        *parties, newcomer = await mous.register_cities(
            *(f"party{n}" for n in range(MAX_PARTIES + 1))
        )
        mou_id = unique_mou_id("crowded")
        assert (await mous.draft(mou_id, parties)).status_code == 201

        response = await mous.client.post(f"/mous/{mou_id}/parties", json={"city_id": newcomer})

        assert_refused(response, mou_id, str(MAX_PARTIES))
        assert await mous.history_types(mou_id) == ["ucap.mou.drafted.v1"]
