"""The pilot aggregate's rules, without I/O."""

from datetime import UTC, date, datetime

import pytest

from ucap_pilots import domain
from ucap_pilots.domain import Action, Pilot, Status
from ucap_pilots.events import Milestone, PartnerCity, PilotProposed, ProgressUpdate, Role
from ucap_shared.dates import PartialDate
from ucap_shared.errors import ConflictError, InvalidInputError

AT = datetime(2020, 1, 1, tzinfo=UTC)
CITIES = {"granada", "kunming"}


def proposed(pilot_id: str = "granada-blocklab", **fields: object) -> PilotProposed:
    values: dict[str, object] = {
        "pilot_id": pilot_id,
        "title": "BlockLab",
        "description": "",
        "lead_city_id": "granada",
        "partners": (
            PartnerCity(city_id="granada", role=Role.LEAD),
            PartnerCity(city_id="kunming", role=Role.PARTNER),
        ),
        "stakeholder_ids": (),
        "cluster": None,
        "themes": (),
        "sdg_goals": (11,),
        "sdg_targets": ("11.3",),
        "urban_agenda_themes": (),
        "mou_ids": (),
        "ucap_id": None,
        **fields,
    }
    return PilotProposed.model_validate(values)


def pilot(*actions: Action) -> Pilot:
    state = domain.evolve(None, proposed(), AT)
    for action in actions:
        for event in domain.change_status(state, action, None, None):
            state = domain.evolve(state, event, AT)
    return state


class TestProposing:
    def test_an_id_without_the_lead_city_prefix_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.propose_pilot(None, proposed("blocklab"), CITIES, set())
        assert [p.loc for p in error.value.problems] == [["id"]]

    def test_every_problem_is_reported_at_once(self) -> None:
        command = proposed(mou_ids=("nope",), sdg_targets=("3.1",))
        with pytest.raises(InvalidInputError) as error:
            domain.propose_pilot(None, command, {"granada"}, set())
        assert len(error.value.problems) == 3


class TestStateMachine:
    @pytest.mark.parametrize(
        ("actions", "status"),
        [
            ((), Status.PROPOSED),
            ((Action.APPROVE, Action.START, Action.COMPLETE), Status.COMPLETED),
            ((Action.APPROVE, Action.HOLD, Action.RESUME), Status.IN_PROGRESS),
            ((Action.APPROVE, Action.START, Action.HOLD, Action.CANCEL), Status.CANCELLED),
        ],
    )
    def test_legal_paths_reach_their_status(
        self, actions: tuple[Action, ...], status: Status
    ) -> None:
        assert pilot(*actions).status is status

    def test_an_illegal_transition_names_the_allowed_ones(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.change_status(pilot(), Action.START, None, None)
        assert error.value.context["allowed"] == ["approve", "cancel"]

    def test_a_closed_pilot_allows_nothing(self) -> None:
        assert domain.allowed_actions(pilot(Action.CANCEL).status) == []


class TestDerived:
    def test_overdue_means_the_planned_period_is_over_and_not_done(self) -> None:
        state = pilot()
        milestone = Milestone(milestone_id="w1", title="W", planned_on=PartialDate(2020, 7))
        for event in domain.add_milestone(state, milestone):
            state = domain.evolve(state, event, AT)
        assert state.overdue_milestones(date(2020, 7, 31)) == []
        assert [m.milestone_id for m in state.overdue_milestones(date(2020, 8, 1))] == ["w1"]

    def test_the_same_key_gives_the_same_update_id(self) -> None:
        assert domain.update_id_for("k") == domain.update_id_for("k")
        assert domain.update_id_for("k") != domain.update_id_for("k2")

    def test_a_recorded_update_is_recognised_as_the_same(self) -> None:
        state = pilot()
        update = ProgressUpdate(
            update_id=domain.update_id_for("k"),
            reported_on=PartialDate(2020, 7),
            reporting_city_id="kunming",
            summary="Done",
            indicator_values=(),
            milestone_id=None,
            attachments=(),
        )
        for event in domain.report_progress(state, update):
            state = domain.evolve(state, event, AT)
        recorded = state.update(update.update_id)
        assert recorded is not None
        assert domain.same_update(recorded, update)
        assert state.days_since_last_update(date(2020, 1, 11)) == 10
