"""Each of the MoU's events through ``evolve``: the state it leaves, and what that state says."""

from datetime import date

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
    drafted,
    signed,
    signed_by_all,
)
from ucap_mous import domain
from ucap_mous.domain import Amendment, MoU, Signature, Status, Termination
from ucap_mous.events import (
    LinkedDocument,
    MouAmended,
    MouDrafted,
    MouEvent,
    MouExpired,
    MouPartyAdded,
    MouTerminated,
)

AMENDED = MouAmended(mou_id=MOU_ID, amended_on=day("2019-06"), summary="Adds a project")
TERMINATED = MouTerminated(mou_id=MOU_ID, terminated_on=day("2020-11-30"), reason="Superseded")
EXPIRED = MouExpired(mou_id=MOU_ID, expired_on=day("2023-12"))


class TestDrafted:
    def test_a_draft_is_a_mou_of_the_event_s_fields_with_nothing_else_yet(self) -> None:
        document = LinkedDocument(title="Signed MoU", url="https://example.org/mou.pdf")
        event = drafted(
            parties=(FIRA, GRANADA, FUND),
            valid_from="2018-07",
            valid_until="2020",
            documents=(document,),
        )
        state = domain.evolve(None, event)
        assert state.model_dump(include=set(MouDrafted.model_fields)) == event.model_dump()
        assert (state.signatures, state.amendments) == ((), ())
        assert (state.termination, state.expired_on) == (None, None)

    @pytest.mark.parametrize(
        "event",
        [
            MouPartyAdded(mou_id=MOU_ID, party=KUNMING),
            signed(GRANADA),
            AMENDED,
            TERMINATED,
            EXPIRED,
        ],
        ids=lambda event: type(event).__name__,
    )
    def test_any_other_event_before_the_draft_is_an_error_naming_its_type(
        self, event: MouEvent
    ) -> None:
        with pytest.raises(ValueError, match=f"{event.event_type} before the MoU was drafted"):
            domain.evolve(None, event)


class TestPartyAdded:
    def test_a_party_joins_after_those_there_and_keeps_its_stakeholders(self) -> None:
        party = KUNMING.model_copy(update={"stakeholder_ids": ("kunming-ciba",)})
        state = domain.evolve(a_mou(), MouPartyAdded(mou_id=MOU_ID, party=party))
        assert state.parties == (GRANADA, ZHENGZHOU, party)
        assert state.party_keys == [("granada", None), ("zhengzhou", None), ("kunming", None)]

    def test_a_party_joining_leaves_the_mou_before_it_as_it_was(self) -> None:
        before = a_mou()
        domain.evolve(before, MouPartyAdded(mou_id=MOU_ID, party=FUND))
        assert before == a_mou()

    def test_a_party_joining_a_mou_signed_by_all_leaves_it_unsigned_again(self) -> None:
        state = domain.evolve(signed_by_all(a_mou()), MouPartyAdded(mou_id=MOU_ID, party=FUND))
        assert not state.fully_signed
        assert state.status_on(TODAY) is Status.DRAFT


class TestSigned:
    def test_a_signature_keeps_every_field_of_its_event(self) -> None:
        event = signed(FIRA, "2019-11-19", place="Chengdu", signatory="CEO", occasion="Congress")
        state = domain.evolve(a_mou(parties=(FIRA, GRANADA)), event)
        assert state.signatures == (
            Signature(
                city_id="barcelona",
                organisation_id="fira-de-barcelona",
                signed_on=day("2019-11-19"),
                place="Chengdu",
                signatory="CEO",
                occasion="Congress",
            ),
        )
        assert state.signed_by == {("barcelona", "fira-de-barcelona")}

    def test_signatures_are_kept_in_the_order_signed(self) -> None:
        state = applied(a_mou(), [signed(ZHENGZHOU, None), signed(GRANADA, "2018")])
        assert [(s.city_id, s.signed_on) for s in state.signatures] == [
            ("zhengzhou", None),
            ("granada", day("2018")),
        ]


class TestAmended:
    def test_amendments_are_kept_in_the_order_made(self) -> None:
        later = MouAmended(mou_id=MOU_ID, amended_on=day("2020"), summary="Extends it")
        state = applied(a_mou(), [AMENDED, later])
        assert state.amendments == (
            Amendment(amended_on=day("2019-06"), summary="Adds a project"),
            Amendment(amended_on=day("2020"), summary="Extends it"),
        )

    def test_an_amendment_changes_nothing_else(self) -> None:
        mou = signed_by_all(a_mou())
        state = domain.evolve(mou, AMENDED)
        assert state.model_copy(update={"amendments": ()}) == mou
        assert state.status_on(TODAY) is Status.IN_FORCE


class TestTerminated:
    def test_a_termination_is_kept_with_its_date_and_reason(self) -> None:
        state = domain.evolve(signed_by_all(a_mou()), TERMINATED)
        assert state.termination == Termination(
            terminated_on=day("2020-11-30"), reason="Superseded"
        )
        assert state.status_on(TODAY) is Status.TERMINATED

    def test_a_terminated_mou_stays_terminated_past_its_validity_and_after_an_expiry(
        self,
    ) -> None:
        state = applied(a_mou(valid_until="2021"), [TERMINATED, EXPIRED])
        assert state.expired_on == day("2023-12")
        assert state.status_on(TODAY) is Status.TERMINATED


class TestExpired:
    def test_an_expiry_is_kept_and_the_mou_is_expired(self) -> None:
        mou = signed_by_all(a_mou(valid_until="2023-12"))
        state = domain.evolve(mou, EXPIRED)
        assert state == mou.model_copy(update={"expired_on": day("2023-12")})
        assert state.status_on(TODAY) is Status.EXPIRED

    def test_an_expiry_recorded_holds_whatever_the_calendar_says(self) -> None:
        state = domain.evolve(signed_by_all(a_mou()), EXPIRED)
        assert state.status_on(date(2018, 8, 1)) is Status.EXPIRED


class TestStatusOfTheState:
    def test_a_draft_with_no_signature_is_not_signed_by_anyone(self) -> None:
        mou = a_mou()
        assert (mou.fully_signed, mou.signed_by, mou.signed_on) == (False, set(), None)
        assert mou.in_force_from is None
        assert mou.status_on(date.max) is Status.DRAFT

    def test_a_draft_past_its_validity_is_expired(self) -> None:
        assert a_mou(valid_until="2020").status_on(TODAY) is Status.EXPIRED

    def test_signed_by_all_on_an_unknown_day_it_is_in_force_since_ever(self) -> None:
        mou = signed_by_all(a_mou(), None)
        assert mou.in_force_from == date.min
        assert mou.status_on(date.min) is Status.IN_FORCE

    def test_undated_with_a_validity_start_it_is_in_force_from_that_day(self) -> None:
        mou = signed_by_all(a_mou(valid_from="2024-02-10"), None)
        assert mou.in_force_from == date(2024, 2, 10)
        assert mou.status_on(date(2024, 2, 9)) is Status.SIGNED
        assert mou.status_on(date(2024, 2, 10)) is Status.IN_FORCE

    def test_signed_by_all_with_a_date_to_come_it_is_signed_until_that_date(self) -> None:
        mou = signed_by_all(a_mou(), "2024-03-10")
        assert mou.status_on(date(2024, 3, 9)) is Status.SIGNED
        assert mou.status_on(date(2024, 3, 10)) is Status.IN_FORCE

    def test_the_last_signature_of_a_month_makes_it_in_force_from_the_first(self) -> None:
        mou = applied(a_mou(), [signed(GRANADA, "2018-06-30"), signed(ZHENGZHOU, "2018-07")])
        assert mou.signed_on == day("2018-07")
        assert mou.in_force_from == date(2018, 7, 1)

    def test_a_signature_known_to_the_year_is_later_than_one_known_to_a_month_of_it(
        self,
    ) -> None:
        mou = applied(a_mou(), [signed(GRANADA, "2018"), signed(ZHENGZHOU, "2018-03")])
        assert mou.signed_on == day("2018")
        assert mou.in_force_from == date(2018, 3, 1)
        assert mou.status_on(date(2018, 2, 28)) is Status.SIGNED

    def test_a_month_at_the_end_of_a_signature_year_is_the_later(self) -> None:
        mou = applied(a_mou(), [signed(GRANADA, "2018-12"), signed(ZHENGZHOU, "2018")])
        assert mou.signed_on == day("2018-12")
        assert mou.in_force_from == date(2018, 12, 1)

    def test_a_city_and_its_stakeholder_name_their_city_once(self) -> None:
        mou = a_mou(parties=(FIRA, GRANADA, BARCELONA, FUND))
        assert mou.party_city_ids == ["barcelona", "granada"]

    def test_the_city_signing_is_not_its_stakeholder_signing(self) -> None:
        mou = applied(a_mou(parties=(FIRA, BARCELONA)), [signed(BARCELONA)])
        assert not mou.fully_signed
        assert mou.status_on(TODAY) is Status.DRAFT


class TestStoredState:
    def test_a_state_read_back_from_json_is_the_same_state(self) -> None:
        mou = applied(
            a_mou(parties=(FIRA, FUND), valid_from="2019", valid_until="2025-06"),
            [signed(FIRA, "2019-11-19"), signed(FUND, None), AMENDED, TERMINATED, EXPIRED],
        )
        assert MoU.model_validate_json(mou.model_dump_json()) == mou

    def test_a_state_stored_with_a_field_since_dropped_is_still_read(self) -> None:
        stored = {**a_mou().model_dump(mode="json"), "status": "draft"}
        assert MoU.model_validate(stored) == a_mou()
