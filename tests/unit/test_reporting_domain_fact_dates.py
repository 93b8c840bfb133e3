"""Cooperation time: the date each event's fact carries, and a U-CAP's events by a day."""

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.reporting_examples import (
    activity,
    created,
    deliverable,
    delivered,
    envelope,
    recorded,
)
from ucap_reporting import cooperation, domain
from ucap_reporting.cooperation import NEVER, created_on, fact_date, known_by, own_events_by
from ucap_reporting.events import (
    PUBLISHED_EVENTS,
    ActivityStatus,
    DeliveryStatus,
    Period,
    Section,
    UcapActivityLogged,
    UcapActivityRemoved,
    UcapActivityUpdated,
    UcapEvent,
    UcapSectionUpdated,
)
from ucap_shared.envelope import Envelope

fast = settings(max_examples=10, deadline=None)
MODELS = {model.event_type: model for model in PUBLISHED_EVENTS}


def logged(activity_id: str, on: str, status: str = "held", sequence: int = 2) -> Envelope:
    event = UcapActivityLogged(ucap_id="u", activity=activity(activity_id, on, status=status))
    return recorded(event, sequence)


def updated(activity_id: str, on: str, status: str, sequence: int = 3) -> Envelope:
    event = UcapActivityUpdated(ucap_id="u", activity=activity(activity_id, on, status=status))
    return recorded(event, sequence)


def begun(start: str | None) -> Envelope:
    period = None if start is None else Period.model_validate({"from": start})
    return recorded(created(period=period))


def as_events(envelopes: list[Envelope]) -> list[UcapEvent]:
    """The events as the projections read them from their envelopes."""
    events = [MODELS[e.type].model_validate(e.data) for e in envelopes]
    return [event for event in events if isinstance(event, UcapEvent)]


class TestUcapFactDates:
    @pytest.mark.parametrize("status", ["held", "cancelled", "postponed"])
    @pytest.mark.parametrize("make", [logged, updated])
    def test_an_activity_that_was_due_counts_from_the_first_day_of_its_date(
        self, status: str, make: Any
    ) -> None:
        assert fact_date(make("a", "2019-06", status=status)) == date(2019, 6, 1)

    @pytest.mark.parametrize("make", [logged, updated])
    def test_a_planned_activity_is_a_plan_that_holds_on_every_day(self, make: Any) -> None:
        assert fact_date(make("a", "2030-01", status="planned")) is None

    def test_an_activity_counts_from_its_date_not_from_its_end(self) -> None:
        long = UcapActivityLogged(
            ucap_id="u", activity=activity(on="2019-06-28", end_date="2019-07-02")
        )
        assert fact_date(recorded(long)) == date(2019, 6, 28)

    @pytest.mark.parametrize(
        ("on", "first"), [("2020", date(2020, 1, 1)), ("2020-05-04", date(2020, 5, 4))]
    )
    def test_a_delivery_counts_from_the_first_day_of_delivered_on(
        self, on: str, first: date
    ) -> None:
        event = delivered(DeliveryStatus.FINAL, on, deliverable(on="2001"))
        assert fact_date(recorded(event)) == first

    @pytest.mark.parametrize(
        "event",
        [
            created(),
            UcapSectionUpdated(ucap_id="u", section=Section.CONTACT, contact="c"),
            UcapActivityRemoved(ucap_id="u", activity_id="a"),
        ],
        ids=lambda event: type(event).__name__,
    )
    def test_creation_section_edits_and_removals_hold_on_every_day(self, event: UcapEvent) -> None:
        assert fact_date(recorded(event)) is None
        assert known_by(recorded(event), date(1, 1, 1), past=True)

    def test_every_ucap_event_type_is_published_and_every_dated_one_has_a_rule(self) -> None:
        ucap_types = {t for t in cooperation.FACT_DATES if t.startswith("ucap.ucap.")}
        assert ucap_types <= set(MODELS)
        assert ucap_types == {
            "ucap.ucap.activity_logged.v1",
            "ucap.ucap.activity_updated.v1",
            "ucap.ucap.delivered.v1",
        }


OTHER_FACTS: list[tuple[str, dict[str, Any]]] = [
    ("ucap.mou.drafted.v1", {"drafted_on": "2019-03"}),
    ("ucap.mou.signed.v1", {"signed_on": "2019-03"}),
    ("ucap.mou.terminated.v1", {"terminated_on": "2019-03"}),
    ("ucap.mou.expired.v1", {"expired_on": "2019-03"}),
    ("ucap.mou.amended.v1", {"amended_on": "2019-03"}),
    ("ucap.pilot.proposed.v1", {"proposed_on": "2019-03"}),
    *[
        (f"ucap.pilot.{name}.v1", {"effective_on": "2019-03"})
        for name in ("approved", "started", "put_on_hold", "resumed", "completed", "cancelled")
    ],
    ("ucap.pilot.milestone_completed.v1", {"completed_on": "2019-03"}),
    ("ucap.pilot.funding_awarded.v1", {"award": {"awarded_on": "2019-03"}}),
    ("ucap.pilot.progress_reported.v1", {"update": {"reported_on": "2019-03"}}),
]


class TestOtherFactDates:
    def test_every_dated_type_is_listed_here(self) -> None:
        ucap = {t for t in cooperation.FACT_DATES if t.startswith("ucap.ucap.")}
        assert {t for t, _ in OTHER_FACTS} == set(cooperation.FACT_DATES) - ucap

    @pytest.mark.parametrize(("event_type", "data"), OTHER_FACTS, ids=[t for t, _ in OTHER_FACTS])
    def test_each_fact_counts_from_the_date_at_its_own_field(
        self, event_type: str, data: dict[str, Any]
    ) -> None:
        assert fact_date(envelope(event_type, data)) == date(2019, 3, 1)

    @pytest.mark.parametrize("event_type", [t for t, _ in OTHER_FACTS if t != "ucap.mou.signed.v1"])
    def test_a_fact_whose_date_is_missing_holds_on_every_day(self, event_type: str) -> None:
        assert fact_date(envelope(event_type, {})) is None

    def test_a_signature_without_a_date_counts_from_today_only(self) -> None:
        assert fact_date(envelope("ucap.mou.signed.v1", {})) == NEVER
        assert fact_date(envelope("ucap.mou.signed.v1", {"signed_on": None})) == NEVER

    def test_a_type_without_a_rule_holds_on_every_day(self) -> None:
        assert fact_date(envelope("ucap.city.registered.v1", {"registered_on": "2030"})) is None

    def test_a_date_written_in_words_counts_as_the_day_it_names(self) -> None:
        assert fact_date(envelope("ucap.mou.drafted.v1", {"drafted_on": "15 July 2018"})) == date(
            2018, 7, 15
        )

    @pytest.mark.parametrize("value", ["2019-02-30", "soon", "", 2019, ["2019"], {"y": 2019}])
    def test_a_date_that_is_no_date_holds_on_every_day(self, value: object) -> None:
        assert fact_date(envelope("ucap.pilot.started.v1", {"effective_on": value})) is None

    @pytest.mark.parametrize(
        "data", [{}, {"activity": None}, {"activity": "a"}, {"activity": {"status": "held"}}]
    )
    def test_an_activity_without_a_date_holds_on_every_day(self, data: dict[str, Any]) -> None:
        assert fact_date(envelope("ucap.ucap.activity_logged.v1", data)) is None

    def test_a_nested_date_under_something_not_an_object_holds_on_every_day(self) -> None:
        data = {"award": "2019-03"}
        assert fact_date(envelope("ucap.pilot.funding_awarded.v1", data)) is None


class TestKnownBy:
    def test_a_fact_counts_from_the_first_day_of_its_date_on(self) -> None:
        june = logged("a", "2019-06")
        assert not known_by(june, date(2019, 5, 31), past=True)
        assert known_by(june, date(2019, 6, 1), past=True)
        assert not known_by(june, date(2019, 5, 31), past=False)

    def test_a_fact_of_unknown_date_is_not_known_by_any_past_day(self) -> None:
        unknown = envelope("ucap.mou.signed.v1", {"signed_on": None})
        assert not known_by(unknown, date.max - timedelta(days=1), past=True)
        assert known_by(unknown, date(1, 1, 1), past=False)

    @fast
    @given(
        st.dates(min_value=date(1, 1, 2)),
        st.dates(),
        st.sampled_from(["held", "cancelled", "postponed"]),
    )
    def test_a_fact_is_known_from_its_day_on_and_not_the_day_before(
        self, day: date, other: date, status: str
    ) -> None:
        fact = logged("a", day.isoformat(), status=status)
        assert known_by(fact, other, past=True) is (other >= day)
        assert not known_by(fact, day - timedelta(days=1), past=True)


class TestCreatedOn:
    def test_a_ucap_with_no_period_begins_with_its_first_dated_fact(self) -> None:
        events = [
            begun(None),
            logged("plan", "2017", status="planned"),
            logged("b", "2019-02-03"),
            recorded(delivered(DeliveryStatus.DELIVERED, "2018-11")),
        ]
        assert created_on(events) == date(2018, 11, 1)

    def test_a_period_at_year_precision_begins_on_its_first_day(self) -> None:
        assert created_on([begun("2018")]) == date(2018, 1, 1)

    def test_no_events_or_only_undated_ones_give_no_beginning(self) -> None:
        assert created_on([]) is None
        assert created_on([begun(None), logged("p", "2018", status="planned")]) is None

    def test_a_signature_of_unknown_date_does_not_begin_anything(self) -> None:
        unknown = envelope("ucap.mou.signed.v1", {"signed_on": None})
        assert created_on([begun("2018-06"), unknown]) == date(2018, 6, 1)


class TestOwnEventsBy:
    def test_no_events_are_none(self) -> None:
        assert own_events_by([], date(2020, 1, 1), past=True) == []

    def test_a_ucap_with_no_beginning_has_its_undated_events_on_any_day(self) -> None:
        events = [begun(None), logged("p", "2030", status="planned", sequence=2)]
        kept = own_events_by(events, date(1900, 1, 1), past=True)
        assert [e.sequence for e in kept] == [1, 2]

    def test_on_the_day_it_begins_the_ucap_is_there(self) -> None:
        kept = own_events_by([begun("2018-06")], date(2018, 6, 1), past=True)
        assert [e.type for e in kept] == ["ucap.ucap.created.v1"]

    def test_renumbering_changes_the_sequence_and_nothing_else(self) -> None:
        events = [
            begun("2018"),
            logged("late", "2021", sequence=2),
            logged("a", "2019", sequence=3),
        ]
        kept = own_events_by(events, date(2019, 12, 31), past=True)
        assert kept[1].model_dump(exclude={"sequence"}) == events[2].model_dump(
            exclude={"sequence"}
        )
        assert kept[1].sequence == 2

    def test_edits_and_removals_count_on_every_day_after_the_beginning(self) -> None:
        events = [
            begun("2018"),
            logged("a", "2020-03", sequence=2),
            recorded(UcapActivityRemoved(ucap_id="u", activity_id="a"), 3),
            recorded(UcapSectionUpdated(ucap_id="u", section=Section.CONTACT, contact="c"), 4),
        ]
        kept = own_events_by(events, date(2019, 1, 1), past=True)
        assert [e.type.split(".")[2] for e in kept] == [
            "created",
            "activity_removed",
            "section_updated",
        ]
        state = domain.fold(as_events(kept))
        assert state is not None
        assert (state.activities, state.contact) == ((), "c")


class TestTimelineByADay:
    @fast
    @given(
        st.lists(
            st.tuples(
                st.dates(date(2018, 1, 1), date(2021, 12, 31)),
                st.sampled_from(list(ActivityStatus)),
            ),
            max_size=5,
        ),
        st.dates(date(2018, 1, 1), date(2021, 12, 31)),
    )
    def test_the_timeline_by_a_day_is_its_plans_and_what_was_due_by_then(
        self, dated: list[tuple[date, ActivityStatus]], day: date
    ) -> None:
        events = [begun("2018")] + [
            logged(f"a{n}", on.isoformat(), status=status.value, sequence=n + 2)
            for n, (on, status) in enumerate(dated)
        ]
        state = domain.fold(as_events(own_events_by(events, day, past=True)))
        assert state is not None
        expected = [
            f"a{n}"
            for n, (on, status) in enumerate(dated)
            if status is ActivityStatus.PLANNED or on <= day
        ]
        assert sorted(a.activity_id for a in state.activities) == sorted(expected)
