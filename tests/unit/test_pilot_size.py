"""A pilot's JSON size, as the capacity checks measure it without dumping its history."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.services.pilots.aggregate_examples import (
    a_pilot,
    applied,
    indicator,
    milestone,
    progress,
)
from ucap_pilots import capacity
from ucap_pilots.domain import Pilot
from ucap_pilots.events import IndicatorAdded, MilestoneAdded, ProgressReported
from ucap_shared.dates import PartialDate


def dumped_bytes(pilot: Pilot) -> int:
    return len(pilot.model_dump_json().encode())


summaries = st.text(min_size=1, max_size=40)


class TestPilotBytes:
    def test_a_pilot_without_updates_or_indicators_is_measured_exactly(self) -> None:
        pilot = a_pilot()

        assert not pilot.updates
        assert not pilot.indicators
        assert capacity.pilot_bytes(pilot) == dumped_bytes(pilot)

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.tuples(summaries, st.integers(0, 500)), min_size=1, max_size=25))
    def test_every_state_of_a_growing_pilot_is_measured_exactly(
        self, reports: list[tuple[str, int]]
    ) -> None:
        pilot = applied(
            a_pilot(),
            [
                IndicatorAdded(pilot_id=a_pilot().pilot_id, indicator=indicator()),
                MilestoneAdded(pilot_id=a_pilot().pilot_id, milestone=milestone()),
            ],
        )
        for number, (summary, value) in enumerate(reports):
            update = progress(
                f"key-{number}",
                reported_on=PartialDate(2020, 1 + number % 12),
                values=[("participants", value)],
            ).model_copy(update={"summary": summary})
            pilot = applied(pilot, [ProgressReported(pilot_id=pilot.pilot_id, update=update)])

            assert capacity.pilot_bytes(pilot) == dumped_bytes(pilot)
        assert len(pilot.updates) == len(reports)
        assert pilot.indicators[0].actuals

    def test_a_state_built_anew_from_the_same_events_is_measured_exactly(self) -> None:
        first = applied(a_pilot(), [domain_update("a"), domain_update("b")])
        again = applied(a_pilot(), [domain_update("a"), domain_update("b")])

        assert capacity.pilot_bytes(first) == capacity.pilot_bytes(again) == dumped_bytes(again)

    def test_states_of_one_pilot_asked_in_any_order_are_measured_exactly(self) -> None:
        shorter = applied(a_pilot(), [domain_update("a")])
        longer = applied(shorter, [domain_update("b"), domain_update("c")])
        other = applied(shorter, [domain_update("d")])

        for state in (longer, shorter, other, longer):
            assert capacity.pilot_bytes(state) == dumped_bytes(state)

    def test_a_state_whose_last_update_differs_from_the_one_measured_is_measured_exactly(
        self,
    ) -> None:
        base = applied(a_pilot(), [domain_update("a"), domain_update("b")])
        measured = applied(base, [domain_update("c")])
        kept = applied(base, [long_update("c-recorded-again")])
        following = applied(kept, [domain_update("d")])

        for state in (measured, kept, following, measured):
            assert capacity.pilot_bytes(state) == dumped_bytes(state)


class TestLatestUpdate:
    def test_is_the_latest_by_date_whichever_state_was_asked_before(self) -> None:
        def on(key: str, month: int) -> ProgressReported:
            update = progress(key, reported_on=PartialDate(2020, month))
            return ProgressReported(pilot_id=a_pilot().pilot_id, update=update)

        base = applied(a_pilot(), [on("march", 3), on("may", 5)])
        later = applied(base, [on("april", 4)])
        other = applied(base, [on("june", 6)])

        assert capacity.latest_update(later) == base.updates[1]
        assert capacity.latest_update(other) == other.updates[2]
        assert capacity.latest_update(base) == base.updates[1]
        assert capacity.latest_update(applied(other, [on("may-again", 5)])) == other.updates[2]
        replaced = applied(base, [on("july", 7)])
        assert capacity.latest_update(replaced) == replaced.updates[2]
        assert capacity.latest_update(applied(replaced, [on("jan", 1)])) == replaced.updates[2]


def long_update(key: str) -> ProgressReported:
    update = progress(key).model_copy(update={"summary": "A much longer summary " * 20})
    return ProgressReported(pilot_id=a_pilot().pilot_id, update=update)


def domain_update(key: str) -> ProgressReported:
    return ProgressReported(pilot_id=a_pilot().pilot_id, update=progress(key))


def test_the_growing_lists_are_the_pilots_fields() -> None:
    assert set(capacity.GROWING) <= set(Pilot.model_fields)
