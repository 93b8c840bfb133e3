"""The pilot's commands after its proposal: the events each makes, and each refusal."""

import pytest

from tests.services.pilots.aggregate_examples import (
    PILOT_ID,
    a_pilot,
    applied,
    award,
    closed_pilot,
    indicator,
    milestone,
    progress,
)
from ucap_pilots import domain
from ucap_pilots.domain import TRANSITIONS, Action, Pilot, Status
from ucap_pilots.events import (
    FundingAwarded,
    IndicatorAdded,
    MilestoneAdded,
    MilestoneCompleted,
    PilotApproved,
    PilotCancelled,
    PilotCompleted,
    PilotPutOnHold,
    PilotResumed,
    PilotStarted,
    ProgressReported,
)
from ucap_shared.dates import PartialDate
from ucap_shared.errors import ConflictError, InvalidInputError

REACHING: dict[Status, tuple[Action, ...]] = {
    Status.PROPOSED: (),
    Status.APPROVED: (Action.APPROVE,),
    Status.IN_PROGRESS: (Action.APPROVE, Action.START),
    Status.ON_HOLD: (Action.APPROVE, Action.HOLD),
    Status.COMPLETED: (Action.APPROVE, Action.START, Action.COMPLETE),
    Status.CANCELLED: (Action.CANCEL,),
}
ACCEPTED = [
    (action, status) for action, (sources, _) in TRANSITIONS.items() for status in sorted(sources)
]
REFUSED = [
    (action, status)
    for action, (sources, _) in TRANSITIONS.items()
    for status in Status
    if status not in sources
]


class TestChangingStatus:
    @pytest.mark.parametrize(
        ("action", "event_model"),
        [
            (Action.APPROVE, PilotApproved),
            (Action.START, PilotStarted),
            (Action.HOLD, PilotPutOnHold),
            (Action.RESUME, PilotResumed),
            (Action.COMPLETE, PilotCompleted),
            (Action.CANCEL, PilotCancelled),
        ],
    )
    def test_each_action_has_its_event(self, action: Action, event_model: type) -> None:
        assert TRANSITIONS[action][1] is event_model

    @pytest.mark.parametrize(("action", "status"), ACCEPTED)
    def test_an_action_from_a_status_it_leaves_makes_its_event(
        self, action: Action, status: Status
    ) -> None:
        on = PartialDate(2019, 9)
        events = domain.change_status(a_pilot(*REACHING[status]), action, on, "why")
        event_model = TRANSITIONS[action][1]
        assert events == [event_model(pilot_id=PILOT_ID, effective_on=on, note="why")]

    @pytest.mark.parametrize(("action", "status"), REFUSED)
    def test_an_action_from_any_other_status_is_a_conflict_naming_the_allowed(
        self, action: Action, status: Status
    ) -> None:
        with pytest.raises(ConflictError) as error:
            domain.change_status(a_pilot(*REACHING[status]), action, None, None)
        allowed = [a.value for a in domain.allowed_actions(status)]
        assert error.value.context == {
            "pilot_id": PILOT_ID,
            "status": status.value,
            "allowed": allowed,
        }
        assert f"cannot {action.value}" in error.value.detail

    def test_a_closed_pilot_allows_nothing(self) -> None:
        assert domain.allowed_actions(Status.COMPLETED) == []
        assert domain.allowed_actions(Status.CANCELLED) == []


def with_milestone(done: bool = False) -> Pilot:
    state = applied(a_pilot(), domain.add_milestone(a_pilot(), milestone()))
    if done:
        state = applied(state, domain.complete_milestone(state, "webinar-1", PartialDate(2020, 7)))
    return state


class TestMilestones:
    def test_a_new_milestone_is_added(self) -> None:
        assert domain.add_milestone(a_pilot(), milestone()) == [
            MilestoneAdded(pilot_id=PILOT_ID, milestone=milestone())
        ]

    def test_a_milestone_id_taken_is_a_conflict(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.add_milestone(with_milestone(), milestone())
        assert error.value.context == {"milestone_id": "webinar-1"}

    def test_a_closed_pilot_takes_no_new_milestone(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.add_milestone(closed_pilot(), milestone())
        assert error.value.context["status"] == "cancelled"

    def test_a_planned_milestone_is_completed(self) -> None:
        on = PartialDate(2020, 7, 15)
        assert domain.complete_milestone(with_milestone(), "webinar-1", on) == [
            MilestoneCompleted(pilot_id=PILOT_ID, milestone_id="webinar-1", completed_on=on)
        ]

    def test_completing_an_unknown_milestone_is_a_conflict(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.complete_milestone(with_milestone(), "nope", PartialDate(2020))
        assert error.value.context == {"milestone_id": "nope"}

    def test_completing_a_completed_milestone_is_a_conflict(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.complete_milestone(with_milestone(done=True), "webinar-1", PartialDate(2021))
        assert "was completed on 2020-07" in error.value.detail

    def test_a_closed_pilot_takes_no_milestone_completion(self) -> None:
        state = applied(
            with_milestone(), domain.change_status(with_milestone(), Action.CANCEL, None, None)
        )
        with pytest.raises(ConflictError):
            domain.complete_milestone(state, "webinar-1", PartialDate(2020))


class TestFunding:
    def test_an_award_is_made(self) -> None:
        assert domain.award_funding(a_pilot(), award()) == [
            FundingAwarded(pilot_id=PILOT_ID, award=award())
        ]

    def test_an_award_id_taken_is_a_conflict(self) -> None:
        state = applied(a_pilot(), domain.award_funding(a_pilot(), award()))
        with pytest.raises(ConflictError) as error:
            domain.award_funding(state, award())
        assert error.value.context == {"award_id": "iuc-fund-2019"}

    def test_a_closed_pilot_takes_no_award(self) -> None:
        with pytest.raises(ConflictError):
            domain.award_funding(closed_pilot(), award())


class TestIndicators:
    def test_an_indicator_is_added(self) -> None:
        assert domain.add_indicator(a_pilot(), indicator()) == [
            IndicatorAdded(pilot_id=PILOT_ID, indicator=indicator())
        ]

    def test_an_indicator_id_taken_is_a_conflict(self) -> None:
        state = applied(a_pilot(), domain.add_indicator(a_pilot(), indicator()))
        with pytest.raises(ConflictError) as error:
            domain.add_indicator(state, indicator())
        assert error.value.context == {"indicator_id": "participants"}

    def test_a_closed_pilot_takes_no_indicator(self) -> None:
        with pytest.raises(ConflictError):
            domain.add_indicator(closed_pilot(), indicator())


class TestReportingProgress:
    def test_an_update_is_reported(self) -> None:
        update = progress(city_id="kunming")
        assert domain.report_progress(a_pilot(), update) == [
            ProgressReported(pilot_id=PILOT_ID, update=update)
        ]

    def test_an_update_reaching_a_planned_milestone_completes_it_on_its_date(self) -> None:
        update = progress(milestone_id="webinar-1")
        assert domain.report_progress(with_milestone(), update) == [
            ProgressReported(pilot_id=PILOT_ID, update=update),
            MilestoneCompleted(
                pilot_id=PILOT_ID, milestone_id="webinar-1", completed_on=update.reported_on
            ),
        ]

    def test_an_update_naming_a_completed_milestone_completes_nothing(self) -> None:
        update = progress(milestone_id="webinar-1")
        assert domain.report_progress(with_milestone(done=True), update) == [
            ProgressReported(pilot_id=PILOT_ID, update=update)
        ]

    def test_a_city_not_of_the_pilot_may_not_report(self) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.report_progress(a_pilot(), progress(city_id="nagpur"))
        assert [p.loc for p in error.value.problems] == [["reporting_city_id"]]

    def test_values_of_unknown_indicators_are_refused(self) -> None:
        state = applied(a_pilot(), domain.add_indicator(a_pilot(), indicator()))
        update = progress(values=[("participants", 120), ("trees", 3)])
        with pytest.raises(InvalidInputError) as error:
            domain.report_progress(state, update)
        assert [p.loc for p in error.value.problems] == [["indicator_values", 1, "indicator_id"]]

    def test_an_unknown_milestone_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.report_progress(a_pilot(), progress(milestone_id="nope"))
        assert [p.loc for p in error.value.problems] == [["milestone_id"]]

    def test_a_closed_pilot_takes_no_progress_update(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.report_progress(closed_pilot(), progress())
        assert "no progress update is accepted" in error.value.detail


class TestIdempotencyKeys:
    def test_one_key_always_gives_one_update_id(self) -> None:
        assert domain.update_id_for("k") == domain.update_id_for("k")
        assert domain.update_id_for("k") != domain.update_id_for("k2")

    def test_a_retry_is_the_same_update_and_a_reuse_is_not(self) -> None:
        state = applied(a_pilot(), domain.report_progress(a_pilot(), progress()))
        recorded = state.update(progress().update_id)
        assert recorded is not None
        assert domain.same_update(recorded, progress())
        assert not domain.same_update(recorded, progress(city_id="kunming"))
