"""Who may change which MoU, as pure rules (the API tests check them end to end)."""

import pytest
from fastapi import HTTPException

from tests.support.auth import ADMIN, city_publisher, reader
from ucap_mous.access import check_change, check_draft, check_expiry_run, signing_party
from ucap_mous.domain import MoU
from ucap_mous.events import MouDrafted, Party
from ucap_shared.auth import Principal, Role
from ucap_shared.errors import InvalidInputError

PARTIES = (Party(city_id="granada"), Party(city_id="zhengzhou"))
MOU = MoU(
    mou_id="granada-zhengzhou-2018", title="MoU", subject="Smart city", parties=PARTIES, themes=()
)
DRAFTED = MouDrafted(
    mou_id=MOU.mou_id,
    title=MOU.title,
    subject=MOU.subject,
    parties=PARTIES,
    themes=(),
    valid_from=None,
    valid_until=None,
    documents=(),
)
CITYLESS_PUBLISHER = Principal(subject="ops:feed", roles=frozenset({Role.PUBLISHER}))


def refused(error: pytest.ExceptionInfo[HTTPException]) -> bool:
    return error.value.status_code == 403


class TestChangingAMou:
    @pytest.mark.parametrize(
        "caller", [city_publisher("granada"), city_publisher("zhengzhou"), ADMIN]
    )
    def test_its_parties_and_an_admin_may(self, caller: Principal) -> None:
        check_draft(caller, DRAFTED)
        check_change(caller, MOU, "amend")

    @pytest.mark.parametrize("caller", [city_publisher("kunming"), CITYLESS_PUBLISHER, reader()])
    def test_anyone_else_may_not(self, caller: Principal) -> None:
        with pytest.raises(HTTPException) as draft:
            check_draft(caller, DRAFTED)
        with pytest.raises(HTTPException) as change:
            check_change(caller, MOU, "amend")
        assert refused(draft)
        assert refused(change)
        assert "amend MoU granada-zhengzhou-2018" in str(change.value.detail)


class TestSigningParty:
    def test_a_city_signs_for_itself_named_or_not(self) -> None:
        granada = city_publisher("granada")
        assert signing_party(granada, None, None) == ("granada", None)
        assert signing_party(granada, "granada", None) == ("granada", None)

    def test_a_city_signs_for_its_stakeholder_or_records_an_organisation_with_no_city(
        self,
    ) -> None:
        barcelona = city_publisher("barcelona")
        fira = signing_party(barcelona, "barcelona", "fira-de-barcelona")
        assert fira == ("barcelona", "fira-de-barcelona")
        fund = signing_party(barcelona, None, "uk-china-biotech-fund")
        assert fund == (None, "uk-china-biotech-fund")

    @pytest.mark.parametrize(
        ("caller", "named"),
        [(city_publisher("granada"), "zhengzhou"), (CITYLESS_PUBLISHER, None)],
    )
    def test_a_city_never_signs_for_another(self, caller: Principal, named: str | None) -> None:
        with pytest.raises(HTTPException) as error:
            signing_party(caller, named, None)
        assert refused(error)

    def test_an_admin_names_the_party(self) -> None:
        assert signing_party(ADMIN, "zhengzhou", None) == ("zhengzhou", None)
        assert signing_party(ADMIN, None, "uk-china-biotech-fund") == (
            None,
            "uk-china-biotech-fund",
        )
        with pytest.raises(InvalidInputError) as error:
            signing_party(ADMIN, None, None)
        assert error.value.problems[0].loc == ["body", "city_id"]


class TestExpiryCheck:
    def test_only_an_admin_runs_it(self) -> None:
        check_expiry_run(ADMIN)
        with pytest.raises(HTTPException) as error:
            check_expiry_run(city_publisher("granada"))
        assert refused(error)
