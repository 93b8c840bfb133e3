"""Properties of the U-CAP aggregate over generated inputs (Hypothesis)."""

from collections.abc import Callable
from datetime import date
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.reporting_examples import (
    a_ucap,
    activity,
    applied,
    created,
    with_activities,
)
from ucap_reporting import domain
from ucap_reporting.domain import DELIVERY_ORDER, Ucap
from ucap_reporting.events import (
    Activity,
    ActivityStatus,
    Deliverable,
    DeliverableKind,
    DeliveryStatus,
    Period,
    UcapEvent,
)
from ucap_shared.dates import PartialDate
from ucap_shared.problems import ConflictError, InvalidInputError, NotFoundError

fast = settings(max_examples=10, deadline=None)

days = st.dates(min_value=date(2015, 1, 1), max_value=date(2025, 12, 31))
ids = st.sampled_from(["a", "b", "c", "d"])
statuses = st.sampled_from(list(ActivityStatus))


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


def same(kept: PartialDate | None, sent: PartialDate | None) -> bool:
    """The same date at the same precision (2020-07 is not 2020-07-01)."""
    if kept is None or sent is None:
        return kept is sent
    return (kept.precision, kept.iso()) == (sent.precision, sent.iso())


def stored_and_read(state: Ucap) -> Ucap:
    """The state as a snapshot or a view keeps it: as JSON, and back."""
    return Ucap.model_validate_json(state.model_dump_json())


@st.composite
def activities(draw: st.DrawFn, activity_id: str | None = None) -> Activity:
    on = draw(partial_dates())
    end = draw(st.none() | partial_dates().filter(lambda d: d.last_day >= on.first_day))
    return activity(
        activity_id or draw(ids),
        on.iso(),
        status=draw(statuses),
        end_date=None if end is None else end.iso(),
    )


@st.composite
def deliverables(draw: st.DrawFn) -> Deliverable:
    return Deliverable(
        title=draw(st.sampled_from(["U-CAP", "Note", "Report"])),
        date=draw(partial_dates()),
        kind=draw(st.sampled_from(list(DeliverableKind))),
    )


Command = Callable[[Ucap], list[UcapEvent]]


@st.composite
def commands(draw: st.DrawFn) -> list[Command]:
    """Commands of every kind, in any order; some are refused where they land."""
    kinds = st.sampled_from(["log", "update", "remove", "section", "deliver"])
    walk: list[Command] = []
    for kind in draw(st.lists(kinds, max_size=6)):
        if kind == "log":
            walk.append(partial(domain.log_activity, activity=draw(activities())))
        elif kind == "update":
            changes = {"status": draw(statuses), "outcome": draw(ids)}
            walk.append(partial(domain.update_activity, activity_id=draw(ids), changes=changes))
        elif kind == "remove":
            walk.append(partial(domain.remove_activity, activity_id=draw(ids)))
        elif kind == "section":
            sdgs = tuple(draw(st.sets(st.integers(1, 17), max_size=3)))
            walk.append(partial(domain.update_sections, changes={"sdgs": sdgs}))
        else:
            status = draw(st.sampled_from([DeliveryStatus.DELIVERED, DeliveryStatus.FINAL]))
            on, what = draw(partial_dates()), draw(st.none() | deliverables())
            walk.append(partial(domain.deliver, status=status, delivered_on=on, deliverable=what))
    return walk


def decide(state: Ucap, command: Command) -> list[UcapEvent]:
    """The events ``command`` makes on ``state``; none where it is refused."""
    try:
        return command(state)
    except (ConflictError, NotFoundError, InvalidInputError):
        return []


def run(walk: list[Command]) -> tuple[Ucap, list[UcapEvent]]:
    """Each command decided on the state the ones before it leave."""
    state = a_ucap()
    history: list[UcapEvent] = [created()]
    for command in walk:
        events = decide(state, command)
        state = applied(state, events)
        history += events
    return state, history


class TestFolding:
    @fast
    @given(commands())
    def test_a_fold_of_the_events_equals_stepping_through_them(self, walk: list[Command]) -> None:
        stepped, history = run(walk)
        assert domain.fold(history) == stepped

    @fast
    @given(commands())
    def test_events_read_back_from_json_fold_to_the_same_state(self, walk: list[Command]) -> None:
        stepped, history = run(walk)
        read = [type(e).model_validate_json(e.model_dump_json(by_alias=True)) for e in history]
        assert domain.fold(read) == stepped
        assert stored_and_read(stepped) == stepped

    @fast
    @given(commands())
    def test_the_timeline_is_always_in_date_then_id_order_with_ids_once(
        self, walk: list[Command]
    ) -> None:
        state, _ = run(walk)
        keys = [(a.date.iso(), a.activity_id) for a in state.activities]
        assert keys == sorted(keys)
        assert len({a.activity_id for a in state.activities}) == len(keys)

    @fast
    @given(commands())
    def test_delivery_never_goes_back_and_finalised_on_is_set_once(
        self, walk: list[Command]
    ) -> None:
        state = a_ucap()
        for command in walk:
            after = applied(state, decide(state, command))
            assert DELIVERY_ORDER[after.delivery_status] >= DELIVERY_ORDER[state.delivery_status]
            if state.finalised_on is not None:
                assert after.finalised_on == state.finalised_on
            assert after.deliverables[: len(state.deliverables)] == state.deliverables
            state = after
        assert (state.finalised_on is None) == (state.delivery_status is not DeliveryStatus.FINAL)
        assert (state.delivered_on is None) == (state.delivery_status is DeliveryStatus.DRAFT)


class TestOrder:
    @fast
    @given(st.lists(ids, unique=True).flatmap(lambda xs: st.tuples(*[activities(x) for x in xs])))
    def test_the_timeline_does_not_depend_on_the_order_of_logging(
        self, logged: tuple[Activity, ...]
    ) -> None:
        assert with_activities(*logged) == with_activities(*reversed(logged))


class TestIdempotency:
    @fast
    @given(
        st.fixed_dictionaries(
            {},
            optional={
                "title": st.sampled_from(["Granada U-CAP", "New"]),
                "sdgs": st.sets(st.integers(1, 17), max_size=3).map(tuple),
                "contact": st.none() | st.just("c@example.org"),
                "key_challenges": st.lists(ids, max_size=2, unique=True).map(tuple),
                "counterpart_city_ids": st.sampled_from([("haikou",), ("kunming", "haikou")]),
            },
        )
    )
    def test_section_changes_applied_already_make_no_event(
        self, changes: dict[str, object]
    ) -> None:
        once = applied(a_ucap(), domain.update_sections(a_ucap(), changes))
        assert domain.update_sections(once, changes) == []

    def test_clearing_an_empty_list_section_makes_no_event(self) -> None:
        assert domain.update_sections(a_ucap(key_challenges=()), {"key_challenges": None}) == []

    @fast
    @given(activities("a"), statuses, partial_dates())
    def test_activity_changes_applied_already_make_no_event(
        self, logged: Activity, status: ActivityStatus, on: PartialDate
    ) -> None:
        changes: dict[str, object] = {"status": status, "date": on.iso(), "end_date": None}
        state = with_activities(logged)
        once = applied(state, domain.update_activity(state, "a", changes))
        assert domain.update_activity(once, "a", changes) == []


class TestPartialDates:
    @fast
    @given(partial_dates(), st.none() | partial_dates())
    def test_a_period_keeps_its_precision(
        self, start: PartialDate, until: PartialDate | None
    ) -> None:
        period = Period(from_=start, until=until)
        state = domain.evolve(None, created(period=period))
        for ucap in (state, stored_and_read(state)):
            assert ucap.period is not None
            assert same(ucap.period.from_, start)
            assert same(ucap.period.until, until)

    @fast
    @given(activities("a"), activities("a"))
    def test_an_activity_keeps_the_precision_of_its_dates(
        self, logged: Activity, updated: Activity
    ) -> None:
        state = with_activities(logged)
        changes = {"date": updated.date, "end_date": updated.end_date}
        state = applied(state, domain.update_activity(state, "a", changes))
        for ucap in (state, stored_and_read(state)):
            [kept] = ucap.activities
            assert same(kept.date, updated.date)
            assert same(kept.end_date, updated.end_date)

    @fast
    @given(partial_dates(), partial_dates(), deliverables())
    def test_a_delivery_keeps_the_precision_of_its_dates(
        self, first: PartialDate, final: PartialDate, what: Deliverable
    ) -> None:
        state = applied(a_ucap(), domain.deliver(a_ucap(), DeliveryStatus.DELIVERED, first, None))
        state = applied(state, domain.deliver(state, DeliveryStatus.FINAL, final, what))
        for ucap in (state, stored_and_read(state)):
            assert same(ucap.delivered_on, first)
            assert same(ucap.finalised_on, final)
            assert same(ucap.deliverables[0].date, what.date)

    @fast
    @given(partial_dates(), partial_dates())
    def test_an_end_date_is_refused_only_when_it_cannot_be_on_or_after_the_date(
        self, on: PartialDate, end: PartialDate
    ) -> None:
        candidate = activity("a", on.iso(), end_date=end.iso())
        if end.last_day >= on.first_day:
            assert domain.log_activity(a_ucap(), candidate)
        else:
            with pytest.raises(InvalidInputError):
                domain.log_activity(a_ucap(), candidate)
