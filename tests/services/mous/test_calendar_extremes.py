"""A MoU's dates at both ends of the calendar (years 1 and 9999): validity, signatures,
amendments and termination, and the list's signing filters: never a server error."""

import pytest

from tests.services.mous.conftest import MousService, unique_mou_id

EXTREMES = ["0001", "0001-01", "0001-01-01", "9999", "9999-12", "9999-12-31"]


class TestAMousDatesAtBothEnds:
    @pytest.mark.parametrize(
        ("valid_from", "valid_until"),
        [("0001", "9999-12-31"), ("0001-01-01", "0001-01-01"), ("9999-12", "9999-12-31")],
    )
    async def test_drafted_signed_amended_read_and_terminated(
        self, mous: MousService, valid_from: str, valid_until: str
    ) -> None:
        first, second = await mous.register_cities("granada", "kunming")
        mou_id = unique_mou_id("extreme")
        answers = {
            "draft": await mous.draft(
                mou_id, [first, second], valid_from=valid_from, valid_until=valid_until
            ),
            "sign first": await mous.sign(mou_id, first, "0001-01-01"),
            "sign second": await mous.sign(mou_id, second, "9999-12-31"),
            "amend": await mous.client.post(
                f"/mous/{mou_id}/amendments", json={"amended_on": "9999", "summary": "Later"}
            ),
            "read": await mous.client.get(f"/mous/{mou_id}"),
            "expiry check": await mous.client.post("/mous/expiry-check"),
        }
        for day in EXTREMES:
            answers[f"list {day}"] = await mous.client.get(
                "/mous", params={"city": first, "signed_from": day, "signed_until": day}
            )
        answers["terminate"] = await mous.client.post(
            f"/mous/{mou_id}/termination", json={"terminated_on": "9999-12-31", "reason": "End"}
        )

        assert {what: a.status_code for what, a in answers.items() if a.status_code >= 500} == {}
        assert answers["draft"].status_code == 201, answers["draft"].text
        assert answers["read"].status_code == 200, answers["read"].text
