"""Each of the pilot's events through ``evolve``: the state it leaves."""

from datetime import date

import pytest

from tests.services.pilots.aggregate_examples import (
    AT,
    LATER,
    PILOT_ID,
    a_pilot,
    award,
    indicator,
    milestone,
    progress,
    proposed,
)
from ucap_pilots import domain
from ucap_pilots.domain import (
    Actual,
    IndicatorState,
    MilestoneState,
    Pilot,
    RecordedUpdate,
    Status,
    StatusChange,
)
from ucap_pilots.events import (
    FundingAwarded,
    IndicatorAdded,
    MilestoneAdded,
    MilestoneCompleted,
    PilotApproved,
    PilotCancelled,
    PilotCompleted,
    PilotDetailsUpdated,
    PilotProposed,
    PilotPutOnHold,
    PilotResumed,
    PilotStarted,
    ProgressReported,
)
from ucap_shared.dates import PartialDate


def details(**changes: object) -> PilotDetailsUpdated:
    return PilotDetailsUpdated.model_validate({"pilot_id": PILOT_ID, **changes})


class TestProposed:
    def test_a_proposal_makes_a_proposed_pilot_of_its_fields(self) -> None:
        state = domain.evolve(None, proposed(), AT)
        assert state.model_dump(include=set(PilotProposed.model_fields)) == proposed().model_dump()
        assert (state.status, state.proposed_at, state.updated_at) == (Status.PROPOSED, AT, AT)
        assert (state.status_changes, state.milestones, state.updates) == ((), (), ())
        assert state.last_progress_at is None

    def test_a_proposal_naming_a_ucap_has_named_it(self) -> None:
        assert domain.evolve(None, proposed(ucap_id="granada-ucap"), AT).ucaps_named == (
            "granada-ucap",
        )
        assert domain.evolve(None, proposed(), AT).ucaps_named == ()

    def test_any_other_event_before_the_proposal_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="before the pilot was proposed"):
            domain.evolve(None, PilotApproved(pilot_id=PILOT_ID, effective_on=None, note=None), AT)

    def test_a_state_stored_before_ucaps_named_was_kept_names_its_ucap(self) -> None:
        stored = a_pilot(ucap_id="granada-ucap").model_dump(exclude={"ucaps_named"})
        assert Pilot.model_validate(stored).ucaps_named == ("granada-ucap",)


class TestStatusChanged:
    @pytest.mark.parametrize(
        ("event_model", "status"),
        [
            (PilotApproved, Status.APPROVED),
            (PilotStarted, Status.IN_PROGRESS),
            (PilotPutOnHold, Status.ON_HOLD),
            (PilotResumed, Status.IN_PROGRESS),
            (PilotCompleted, Status.COMPLETED),
            (PilotCancelled, Status.CANCELLED),
        ],
    )
    def test_a_status_event_sets_the_status_and_records_the_change(
        self, event_model: type[PilotApproved], status: Status
    ) -> None:
        on = PartialDate(2019, 9)
        event = event_model(pilot_id=PILOT_ID, effective_on=on, note="fund awarded")
        state = domain.evolve(a_pilot(), event, LATER)
        assert state.status is status
        assert state.status_changes == (
            StatusChange(status=status, effective_on=on, note="fund awarded", recorded_at=LATER),
        )
        assert (state.proposed_at, state.updated_at) == (AT, LATER)


class TestDetailsUpdated:
    def test_the_fields_present_change_and_the_others_stay(self) -> None:
        state = domain.evolve(a_pilot(), details(title="BlockLab 2", cluster=None), LATER)
        assert (state.title, state.cluster, state.themes) == ("BlockLab 2", None, ("Smart City",))
        assert state.updated_at == LATER

    def test_a_ucap_named_anew_is_added_to_those_named(self) -> None:
        state = domain.evolve(a_pilot(ucap_id="granada-ucap"), details(ucap_id="eu-ucap"), AT)
        assert (state.ucap_id, state.ucaps_named) == ("eu-ucap", ("granada-ucap", "eu-ucap"))

    def test_a_ucap_named_again_is_named_once(self) -> None:
        state = domain.evolve(a_pilot(ucap_id="granada-ucap"), details(ucap_id=None), AT)
        state = domain.evolve(state, details(ucap_id="granada-ucap"), AT)
        assert state.ucaps_named == ("granada-ucap",)

    def test_clearing_the_ucap_keeps_it_among_those_named(self) -> None:
        state = domain.evolve(a_pilot(ucap_id="granada-ucap"), details(ucap_id=None), AT)
        assert (state.ucap_id, state.ucaps_named) == (None, ("granada-ucap",))


class TestMilestones:
    def test_an_added_milestone_is_planned_and_not_done(self) -> None:
        state = domain.evolve(
            a_pilot(), MilestoneAdded(pilot_id=PILOT_ID, milestone=milestone()), AT
        )
        assert state.milestones == (
            MilestoneState(
                milestone_id="webinar-1", title="First webinar", planned_on=PartialDate(2020, 7)
            ),
        )

    def test_a_completed_milestone_has_its_date_and_the_others_stay(self) -> None:
        state = a_pilot()
        for name in ("webinar-1", "webinar-2"):
            added = MilestoneAdded(pilot_id=PILOT_ID, milestone=milestone(name))
            state = domain.evolve(state, added, AT)
        on = PartialDate(2020, 7, 15)
        done = MilestoneCompleted(pilot_id=PILOT_ID, milestone_id="webinar-2", completed_on=on)
        state = domain.evolve(state, done, LATER)
        assert [(m.milestone_id, m.completed_on) for m in state.milestones] == [
            ("webinar-1", None),
            ("webinar-2", on),
        ]
        assert state.updated_at == LATER

    def test_completing_a_milestone_not_held_changes_only_the_time(self) -> None:
        event = MilestoneCompleted(
            pilot_id=PILOT_ID, milestone_id="nope", completed_on=PartialDate(2020)
        )
        state = domain.evolve(a_pilot(), event, LATER)
        assert state == a_pilot().model_copy(update={"updated_at": LATER})


class TestFundingAndIndicators:
    def test_an_award_is_added_to_the_funding(self) -> None:
        state = domain.evolve(a_pilot(), FundingAwarded(pilot_id=PILOT_ID, award=award()), AT)
        state = domain.evolve(state, FundingAwarded(pilot_id=PILOT_ID, award=award("b")), AT)
        assert state.funding == (award(), award("b"))

    def test_an_added_indicator_has_no_actuals_yet(self) -> None:
        event = IndicatorAdded(pilot_id=PILOT_ID, indicator=indicator())
        state = domain.evolve(a_pilot(), event, AT)
        assert state.indicators == (IndicatorState(**indicator().model_dump()),)
        assert state.indicators[0].actuals == ()


class TestProgressReported:
    def with_indicators(self) -> Pilot:
        state = a_pilot()
        for name in ("participants", "trees"):
            event = IndicatorAdded(pilot_id=PILOT_ID, indicator=indicator(name))
            state = domain.evolve(state, event, AT)
        return state

    def test_the_update_is_recorded_with_its_time(self) -> None:
        update = progress()
        state = domain.evolve(a_pilot(), ProgressReported(pilot_id=PILOT_ID, update=update), LATER)
        assert state.updates == (RecordedUpdate(**update.model_dump(), recorded_at=LATER),)
        assert (state.last_progress_at, state.updated_at) == (LATER, LATER)
        assert state.days_since_last_update(date(2020, 2, 11)) == 10

    def test_each_value_becomes_an_actual_of_its_indicator(self) -> None:
        update = progress(values=[("participants", 120), ("trees", 3)])
        event = ProgressReported(pilot_id=PILOT_ID, update=update)
        state = domain.evolve(self.with_indicators(), event, LATER)
        actual = Actual(value=120, on=update.reported_on, update_id=update.update_id)
        assert state.indicators[0].actuals == (actual,)
        assert [a.value for a in state.indicators[1].actuals] == [3]

    def test_a_value_of_an_indicator_not_held_is_skipped(self) -> None:
        update = progress(values=[("ghosts", 1), ("trees", 3)])
        event = ProgressReported(pilot_id=PILOT_ID, update=update)
        state = domain.evolve(self.with_indicators(), event, LATER)
        assert [len(i.actuals) for i in state.indicators] == [0, 1]
        assert len(state.updates) == 1

    def test_actuals_keep_the_order_of_the_updates(self) -> None:
        state = self.with_indicators()
        for key, value in (("a", 10), ("b", 20)):
            update = progress(key, values=[("participants", value)])
            state = domain.evolve(state, ProgressReported(pilot_id=PILOT_ID, update=update), AT)
        assert [a.value for a in state.indicators[0].actuals] == [10, 20]


class TestDerived:
    def test_no_update_yet_has_no_days_since(self) -> None:
        assert a_pilot().days_since_last_update(date(2020, 5, 1)) is None

    def test_a_cancelled_pilot_has_no_overdue_milestones(self) -> None:
        added = MilestoneAdded(pilot_id=PILOT_ID, milestone=milestone())
        state = domain.evolve(a_pilot(), added, AT)
        assert len(state.overdue_milestones(date(2021, 1, 1))) == 1
        cancelled = PilotCancelled(pilot_id=PILOT_ID, effective_on=None, note=None)
        assert domain.evolve(state, cancelled, AT).overdue_milestones(date(2021, 1, 1)) == []
