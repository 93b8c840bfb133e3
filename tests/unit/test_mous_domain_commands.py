"""Signing, amending, terminating and expiring a MoU: the events each makes, and each refusal."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from tests.unit.mous_examples import (
    BARCELONA,
    FIRA,
    FUND,
    GRANADA,
    KUNMING,
    MOU_ID,
    TODAY,
    ZHENGZHOU,
    a_mou,
    applied,
    day,
    signature,
    signed,
    signed_by_all,
)
from ucap_mous import domain
from ucap_mous.domain import Amendment, MoU, Termination
from ucap_mous.events import MouAmended, MouExpired, MouSigned, MouTerminated, Party
from ucap_shared.problems import ConflictError

AMENDMENT = Amendment(amended_on=day("2019-06"), summary="Adds a health project")
TERMINATION = Termination(terminated_on=day("2020-11-30"), reason="Superseded by the U-CAP")


def terminated(mou: MoU) -> MoU:
    return applied(mou, [MouTerminated(mou_id=MOU_ID, **TERMINATION.model_dump())])


def expiry_recorded(mou: MoU) -> MoU:
    return applied(mou, [MouExpired(mou_id=MOU_ID, expired_on=day("2023-12"))])


def past_validity(mou: MoU) -> MoU:
    return mou.model_copy(update={"valid_until": day("2023")})


CLOSED: dict[str, tuple[Callable[[MoU], MoU], str]] = {
    "terminated": (terminated, "terminated"),
    "expiry-recorded": (expiry_recorded, "expired"),
    "past-validity": (past_validity, "expired"),
}
"""Three ways a MoU closes, each with the status it then has."""


def closed(how: str) -> tuple[MoU, str]:
    close, status = CLOSED[how]
    return close(a_mou()), status


class TestSigning:
    def test_a_signature_is_an_event_with_all_its_fields(self) -> None:
        given = signature(
            GRANADA, "2018-07-20", place="Zhengzhou", signatory="Mayor", occasion="Mission"
        )
        assert domain.sign_mou(a_mou(), given, TODAY) == [
            MouSigned(
                mou_id=MOU_ID,
                city_id="granada",
                organisation_id=None,
                signed_on=day("2018-07-20"),
                place="Zhengzhou",
                signatory="Mayor",
                occasion="Mission",
            )
        ]

    def test_a_signature_of_unknown_date_is_signed_on_null(self) -> None:
        [event] = domain.sign_mou(a_mou(), signature(GRANADA, None), TODAY)
        assert isinstance(event, MouSigned)
        assert event.signed_on is None

    @pytest.mark.parametrize("party", [FIRA, FUND], ids=["stakeholder", "no-city"])
    def test_an_organisation_that_is_a_party_signs_under_its_key(self, party: Party) -> None:
        mou = a_mou(parties=(GRANADA, party))
        [event] = domain.sign_mou(mou, signature(party), TODAY)
        assert isinstance(event, MouSigned)
        assert (event.city_id, event.organisation_id) == party.key

    def test_a_city_does_not_sign_for_its_stakeholder(self) -> None:
        mou = a_mou(parties=(GRANADA, FIRA))
        with pytest.raises(ConflictError) as error:
            domain.sign_mou(mou, signature(BARCELONA), TODAY)
        assert error.value.context == {
            "mou_id": MOU_ID,
            "city_id": "barcelona",
            "organisation_id": None,
        }
        assert "add it as a party first" in error.value.detail

    def test_a_stakeholder_does_not_sign_for_its_city(self) -> None:
        mou = a_mou(parties=(GRANADA, BARCELONA))
        with pytest.raises(ConflictError) as error:
            domain.sign_mou(mou, signature(FIRA), TODAY)
        assert error.value.detail.startswith("barcelona/fira-de-barcelona is not a party")

    def test_an_organisation_with_no_city_that_is_not_a_party_may_not_sign(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.sign_mou(a_mou(), signature(FUND), TODAY)
        assert error.value.context["organisation_id"] == "uk-china-biotech-fund"

    def test_a_second_signature_of_a_party_is_a_conflict_naming_it(self) -> None:
        mou = applied(a_mou(parties=(GRANADA, FUND)), [signed(FUND, None)])
        with pytest.raises(ConflictError) as error:
            domain.sign_mou(mou, signature(FUND, "2019"), TODAY)
        assert error.value.context == {
            "mou_id": MOU_ID,
            "city_id": None,
            "organisation_id": "uk-china-biotech-fund",
        }
        assert "has already signed" in error.value.detail

    def test_a_party_added_later_may_sign(self) -> None:
        mou = a_mou()
        mou = applied(mou, domain.add_party(mou, KUNMING, {"kunming": frozenset()}, TODAY))
        assert domain.sign_mou(mou, signature(KUNMING), TODAY)

    def test_a_mou_may_be_signed_on_the_last_day_of_its_validity(self) -> None:
        mou = a_mou(valid_until="2023-12")
        assert domain.sign_mou(mou, signature(GRANADA), date(2023, 12, 31))

    @pytest.mark.parametrize("how", list(CLOSED))
    def test_a_closed_mou_accepts_no_signature(self, how: str) -> None:
        mou, status = closed(how)
        with pytest.raises(ConflictError) as error:
            domain.sign_mou(mou, signature(GRANADA), TODAY)
        assert error.value.context == {"mou_id": MOU_ID, "status": status}
        assert error.value.detail == f"MoU {MOU_ID} is {status}: it accepts no signature"


class TestAmending:
    @pytest.mark.parametrize("valid_from", [None, "2030"], ids=["in-force", "signed"])
    def test_a_mou_signed_by_all_is_amended(self, valid_from: str | None) -> None:
        mou = signed_by_all(a_mou(valid_from=valid_from))
        assert domain.amend_mou(mou, AMENDMENT, TODAY) == [
            MouAmended(mou_id=MOU_ID, amended_on=day("2019-06"), summary="Adds a health project")
        ]

    def test_a_draft_is_amended(self) -> None:
        [event] = domain.amend_mou(a_mou(), AMENDMENT, TODAY)
        assert event == MouAmended(mou_id=MOU_ID, **AMENDMENT.model_dump())

    @pytest.mark.parametrize("how", list(CLOSED))
    def test_a_closed_mou_accepts_no_amendment(self, how: str) -> None:
        mou, status = closed(how)
        with pytest.raises(ConflictError) as error:
            domain.amend_mou(mou, AMENDMENT, TODAY)
        assert error.value.context == {"mou_id": MOU_ID, "status": status}
        assert "accepts no amendment" in error.value.detail


class TestTerminating:
    @pytest.mark.parametrize(
        "mou",
        [a_mou(), applied(a_mou(), [signed(GRANADA)]), signed_by_all(a_mou())],
        ids=["draft", "partly-signed", "in-force"],
    )
    def test_an_open_mou_is_terminated_with_its_date_and_reason(self, mou: MoU) -> None:
        assert domain.terminate_mou(mou, TERMINATION, TODAY) == [
            MouTerminated(
                mou_id=MOU_ID, terminated_on=day("2020-11-30"), reason="Superseded by the U-CAP"
            )
        ]

    @pytest.mark.parametrize("how", list(CLOSED))
    def test_a_closed_mou_accepts_no_termination(self, how: str) -> None:
        mou, status = closed(how)
        with pytest.raises(ConflictError) as error:
            domain.terminate_mou(mou, TERMINATION, TODAY)
        assert error.value.context == {"mou_id": MOU_ID, "status": status}
        assert "accepts no termination" in error.value.detail


class TestExpiring:
    @pytest.mark.parametrize(
        ("valid_until", "last_day"),
        [
            ("2023", date(2023, 12, 31)),
            ("2023-02", date(2023, 2, 28)),
            ("2023-06-15", date(2023, 6, 15)),
        ],
    )
    def test_expires_the_day_after_the_last_its_validity_may_mean(
        self, valid_until: str, last_day: date
    ) -> None:
        mou = a_mou(valid_until=valid_until)
        assert domain.expire_mou(mou, last_day) == []
        assert domain.expire_mou(mou, last_day + timedelta(days=1)) == [
            MouExpired(mou_id=MOU_ID, expired_on=day(valid_until))
        ]

    def test_a_draft_never_signed_expires_too(self) -> None:
        mou = applied(a_mou(valid_until="2020"), [signed(ZHENGZHOU)])
        assert domain.expire_mou(mou, TODAY) == [MouExpired(mou_id=MOU_ID, expired_on=day("2020"))]

    def test_a_terminated_mou_past_its_validity_does_not_expire(self) -> None:
        mou = terminated(a_mou(valid_until="2023-06"))
        assert domain.expire_mou(mou, TODAY) == []

    def test_an_expiry_recorded_is_not_recorded_again(self) -> None:
        mou = expiry_recorded(a_mou(valid_until="2023-12"))
        assert domain.expire_mou(mou, TODAY) == []
