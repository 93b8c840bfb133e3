"""Properties of the pilot aggregate over generated inputs (Hypothesis)."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.services.pilots.aggregate_examples import (
    AT,
    PILOT_ID,
    a_pilot,
    applied,
    indicator,
    milestone,
    progress,
    proposed,
)
from ucap_pilots import domain, handlers
from ucap_pilots.domain import TRANSITIONS, Action, Pilot, Status
from ucap_pilots.events import (
    IndicatorAdded,
    MilestoneAdded,
    MilestoneCompleted,
    PilotEvent,
    ProgressReported,
    ProgressUpdate,
)
from ucap_shared.dates import PartialDate
from ucap_shared.errors import ConflictError

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
keys = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


@st.composite
def partial_dates(draw: st.DrawFn) -> PartialDate:
    """A year, a year and month, or a full date."""
    day = draw(days)
    precision = draw(st.sampled_from(["year", "month", "day"]))
    if precision == "year":
        return PartialDate(day.year)
    if precision == "month":
        return PartialDate(day.year, day.month)
    return PartialDate.of(day)


def status_after(action: Action) -> Status:
    return Status(TRANSITIONS[action][1].model_fields["status"].default)


@st.composite
def status_walks(draw: st.DrawFn) -> list[Action]:
    """A sequence of actions, each allowed in the status the ones before it leave."""
    status = Status.PROPOSED
    walk: list[Action] = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        allowed = domain.allowed_actions(status)
        if not allowed:
            break
        action = draw(st.sampled_from(allowed))
        walk.append(action)
        status = status_after(action)
    return walk


def kept(date_kept: PartialDate | None, date_sent: PartialDate) -> bool:
    """The same date at the same precision (2020-07 is not 2020-07-01)."""
    return date_kept is not None and (date_kept.precision, date_kept.iso()) == (
        date_sent.precision,
        date_sent.iso(),
    )


def stored_and_read(state: Pilot) -> Pilot:
    """The state as a snapshot or a view keeps it: as JSON, and back."""
    return Pilot.model_validate_json(state.model_dump_json())


class TestStatusWalks:
    @given(status_walks())
    def test_fold_of_the_events_equals_stepping_through_them(self, walk: list[Action]) -> None:
        stepped = domain.evolve(None, proposed(), AT)
        recorded: list[tuple[PilotEvent, datetime]] = [(proposed(), AT)]
        for minutes, action in enumerate(walk, start=1):
            at = AT + timedelta(minutes=minutes)
            for event in domain.change_status(stepped, action, None, None):
                stepped = domain.evolve(stepped, event, at)
                recorded.append((event, at))
        assert domain.fold(recorded) == stepped
        assert [change.status for change in stepped.status_changes] == [
            status_after(action) for action in walk
        ]

    @given(status_walks(), st.sampled_from(list(Action)))
    def test_only_an_allowed_action_makes_an_event(
        self, walk: list[Action], action: Action
    ) -> None:
        state = a_pilot(*walk)
        if action in domain.allowed_actions(state.status):
            [event] = domain.change_status(state, action, None, None)
            assert domain.evolve(state, event, AT).status is status_after(action)
        else:
            with pytest.raises(ConflictError):
                domain.change_status(state, action, None, None)


class TestPartialDates:
    @given(partial_dates(), partial_dates())
    def test_a_milestone_keeps_the_precision_of_its_dates(
        self, planned_on: PartialDate, completed_on: PartialDate
    ) -> None:
        planned = milestone().model_copy(update={"planned_on": planned_on})
        state = applied(a_pilot(), [MilestoneAdded(pilot_id=PILOT_ID, milestone=planned)])
        done = MilestoneCompleted(
            pilot_id=PILOT_ID, milestone_id=planned.milestone_id, completed_on=completed_on
        )
        state = applied(state, [done])
        for pilot in (state, stored_and_read(state)):
            [kept_milestone] = pilot.milestones
            assert kept(kept_milestone.planned_on, planned_on)
            assert kept(kept_milestone.completed_on, completed_on)

    @given(partial_dates())
    def test_progress_keeps_the_precision_of_its_date(self, reported_on: PartialDate) -> None:
        state = applied(a_pilot(), [IndicatorAdded(pilot_id=PILOT_ID, indicator=indicator())])
        update = progress(reported_on=reported_on, values=[("participants", 1)])
        state = applied(state, [ProgressReported(pilot_id=PILOT_ID, update=update)])
        for pilot in (state, stored_and_read(state)):
            assert kept(pilot.updates[0].reported_on, reported_on)
            assert kept(pilot.indicators[0].actuals[0].on, reported_on)

    @given(partial_dates())
    def test_progress_reaching_a_milestone_completes_it_at_the_update_s_precision(
        self, reported_on: PartialDate
    ) -> None:
        state = applied(a_pilot(), domain.add_milestone(a_pilot(), milestone()))
        update = progress(reported_on=reported_on, milestone_id="webinar-1")
        state = applied(state, domain.report_progress(state, update))
        assert kept(state.milestones[0].completed_on, reported_on)


def report(state: Pilot, update: ProgressUpdate) -> Pilot:
    """As the progress handler decides: a key recorded before replays, else the update records."""
    if handlers._replay(state, update) is not None:
        return state
    return applied(state, domain.report_progress(state, update))


class TestIdempotency:
    @given(keys, partial_dates(), st.sampled_from(["granada", "kunming"]))
    def test_an_update_reported_twice_with_one_key_is_recorded_once(
        self, key: str, reported_on: PartialDate, city_id: str
    ) -> None:
        first = progress(key, reported_on=reported_on, city_id=city_id)
        retry = progress(key, reported_on=reported_on, city_id=city_id)
        state = report(report(a_pilot(), first), retry)
        assert [u.update_id for u in state.updates] == [domain.update_id_for(key)]
        replay = handlers._replay(state, retry)
        assert replay is not None
        assert replay.replayed
        assert replay.update == state.updates[0]

    @given(keys, partial_dates())
    def test_a_key_reused_for_another_update_is_a_conflict(
        self, key: str, reported_on: PartialDate
    ) -> None:
        state = report(a_pilot(), progress(key, reported_on=reported_on))
        with pytest.raises(ConflictError):
            report(state, progress(key, reported_on=reported_on, city_id="kunming"))

    @given(st.lists(keys, min_size=1, max_size=8))
    def test_every_key_is_recorded_once(self, sent: list[str]) -> None:
        state = a_pilot()
        for key in [*sent, *reversed(sent)]:
            state = report(state, progress(key))
        recorded = [u.update_id for u in state.updates]
        assert recorded == [domain.update_id_for(key) for key in dict.fromkeys(sent)]
