"""The U-CAP's commands: the events each makes, and each refusal with where it lies."""

from collections.abc import Sequence

import pytest

from tests.unit.reporting_examples import (
    UCAP_ID,
    a_ucap,
    activity,
    applied,
    created,
    deliverable,
    delivered,
    with_activities,
)
from ucap_reporting import domain
from ucap_reporting.events import (
    ActivityKind,
    ActivityStatus,
    DeliverableKind,
    DeliveryStatus,
    Period,
    Section,
    Theme,
    UcapActivityLogged,
    UcapActivityRemoved,
    UcapActivityUpdated,
    UcapDelivered,
    UcapSectionUpdated,
)
from ucap_shared.dates import PartialDate
from ucap_shared.problems import ConflictError, InvalidInputError, NotFoundError


def locs(error: InvalidInputError) -> list[list[str | int]]:
    return [problem.loc for problem in error.problems]


class TestCreating:
    def test_a_new_ucap_is_created_by_exactly_the_event_given(self) -> None:
        event = created()
        assert domain.create_ucap(None, event) == [event]

    def test_the_conflict_names_the_ucap(self) -> None:
        with pytest.raises(ConflictError) as raised:
            domain.create_ucap(a_ucap(), created())
        assert raised.value.context == {"ucap_id": UCAP_ID}

    @pytest.mark.parametrize(
        ("fields", "loc"),
        [
            ({"counterpart_city_ids": ("haikou", "haikou")}, ["counterpart_city_ids"]),
            ({"counterpart_city_ids": ("granada",)}, ["counterpart_city_ids"]),
            ({"sdgs": (3, 0)}, ["sdgs", 1]),
            ({"sdgs": (9, 9)}, ["sdgs"]),
            ({"themes": (Theme(title="Health"), Theme(title="Health", key_focus="b"))}, ["themes"]),
            (
                {"period": Period.model_validate({"from": "2019-06-02", "until": "2019-06-01"})},
                ["period", "until"],
            ),
        ],
    )
    def test_each_content_problem_names_its_field_within_the_command(
        self, fields: dict[str, object], loc: list[str | int]
    ) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.create_ucap(None, created(**fields))
        assert locs(raised.value) == [loc]

    @pytest.mark.parametrize(
        ("start", "end"), [("2019", "2019-01"), ("2019-06-30", "2019-06"), ("2019-06", "2019")]
    )
    def test_a_period_may_end_within_its_start_at_a_coarser_or_finer_precision(
        self, start: str, end: str
    ) -> None:
        period = Period.model_validate({"from": start, "until": end})
        assert domain.create_ucap(None, created(period=period))

    def test_an_open_ended_or_missing_period_is_accepted(self) -> None:
        open_ended = Period.model_validate({"from": "2018-06"})
        assert domain.create_ucap(None, created(period=open_ended))
        assert domain.create_ucap(None, created(period=None))


def sections(events: Sequence[object]) -> list[Section]:
    return [e.section for e in events if isinstance(e, UcapSectionUpdated)]


class TestUpdatingSections:
    def test_nothing_sent_makes_no_event(self) -> None:
        assert domain.update_sections(a_ucap(), {}) == []

    def test_the_event_carries_every_field_of_the_section_and_nulls_elsewhere(self) -> None:
        [event] = domain.update_sections(a_ucap(), {"lead_city_id": "seville"})
        assert event == UcapSectionUpdated(
            ucap_id=UCAP_ID,
            section=Section.CITIES,
            lead_city_id="seville",
            counterpart_city_ids=("haikou", "kunming"),
        )

    def test_fields_of_one_section_sent_together_make_one_event(self) -> None:
        events = domain.update_sections(
            a_ucap(), {"sdgs": (3,), "urban_agenda_themes": ("Housing",)}
        )
        assert events == [
            UcapSectionUpdated(
                ucap_id=UCAP_ID, section=Section.GOALS, sdgs=(3,), urban_agenda_themes=("Housing",)
            )
        ]

    @pytest.mark.parametrize(
        ("changes", "section"),
        [
            ({"title": "Granada"}, Section.TITLE),
            ({"period": None}, Section.PERIOD),
            ({"themes": (Theme(title="Health"),)}, Section.THEMES),
            ({"key_challenges": ()}, Section.CHALLENGES),
            ({"main_objectives": ("More",)}, Section.OBJECTIVES),
            ({"expected_results": None}, Section.EXPECTED_RESULTS),
            ({"contact": "new@example.org"}, Section.CONTACT),
            ({"deliverables": (deliverable(),)}, Section.DELIVERABLES),
        ],
    )
    def test_each_section_changed_makes_its_event(
        self, changes: dict[str, object], section: Section
    ) -> None:
        [event] = domain.update_sections(a_ucap(), changes)
        assert isinstance(event, UcapSectionUpdated)
        assert event.section is section
        assert {name: getattr(event, name) for name in changes} == changes

    def test_sections_come_in_the_order_of_the_sections_not_of_the_changes(self) -> None:
        events = domain.update_sections(
            a_ucap(), {"contact": "x@example.org", "period": None, "title": "T"}
        )
        assert sections(events) == [Section.TITLE, Section.PERIOD, Section.CONTACT]

    def test_a_lead_moved_onto_a_counterpart_is_refused_at_the_counterparts(self) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.update_sections(a_ucap(), {"lead_city_id": "kunming"})
        assert locs(raised.value) == [["counterpart_city_ids"]]

    def test_swapping_the_lead_and_a_counterpart_together_is_accepted(self) -> None:
        [event] = domain.update_sections(
            a_ucap(), {"lead_city_id": "kunming", "counterpart_city_ids": ("granada", "haikou")}
        )
        assert sections([event]) == [Section.CITIES]

    def test_all_the_required_fields_removed_are_named_at_once(self) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.update_sections(
                a_ucap(), {"title": None, "lead_city_id": None, "counterpart_city_ids": None}
            )
        assert locs(raised.value) == [["title"], ["lead_city_id"], ["counterpart_city_ids"]]

    @pytest.mark.parametrize(
        ("changes", "loc"),
        [
            ({"sdgs": (18,)}, ["sdgs", 0]),
            ({"sdgs": (4, 4)}, ["sdgs"]),
            ({"themes": (Theme(title="A"), Theme(title="A"))}, ["themes"]),
            (
                {"period": Period.model_validate({"from": "2020", "until": "2019"})},
                ["period", "until"],
            ),
            ({"counterpart_city_ids": ("haikou", "haikou")}, ["counterpart_city_ids"]),
        ],
    )
    def test_content_problems_name_the_field_within_the_command(
        self, changes: dict[str, object], loc: list[str | int]
    ) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.update_sections(a_ucap(), changes)
        assert locs(raised.value) == [loc]

    def test_a_problem_in_an_unsent_section_is_not_the_callers(self) -> None:
        # Content stored before a rule existed is not refused when another section changes.
        stored = a_ucap().model_copy(update={"sdgs": (0,)})
        assert sections(domain.update_sections(stored, {"contact": "c"})) == [Section.CONTACT]


class TestLoggingActivities:
    def test_an_activity_is_logged_whole(self) -> None:
        logged = activity(status=ActivityStatus.PLANNED, end_date="2018-07-20", places=("Haikou",))
        assert domain.log_activity(a_ucap(), logged) == [
            UcapActivityLogged(ucap_id=UCAP_ID, activity=logged)
        ]

    def test_an_id_logged_already_is_a_conflict_naming_it(self) -> None:
        with pytest.raises(ConflictError) as raised:
            domain.log_activity(with_activities(activity()), activity(on="2019"))
        assert raised.value.context == {"ucap_id": UCAP_ID, "activity_id": "a1"}

    def test_an_id_removed_may_be_logged_again(self) -> None:
        state = with_activities(activity())
        state = applied(state, domain.remove_activity(state, "a1"))
        assert domain.log_activity(state, activity(on="2019"))

    @pytest.mark.parametrize("field", ["places", "city_ids", "mou_ids", "pilot_ids"])
    def test_a_value_twice_in_a_list_is_refused_at_that_list(self, field: str) -> None:
        twice: dict[str, object] = {field: ("x", "y", "x")}
        with pytest.raises(InvalidInputError) as raised:
            domain.log_activity(a_ucap(), activity("a1", "2018-07", **twice))
        assert locs(raised.value) == [[field]]

    def test_every_problem_of_the_activity_is_named_at_once(self) -> None:
        bad = activity(on="2019-06", places=("a", "a"), pilot_ids=("p", "p"), end_date="2019-05")
        with pytest.raises(InvalidInputError) as raised:
            domain.log_activity(a_ucap(), bad)
        assert locs(raised.value) == [["places"], ["pilot_ids"], ["end_date"]]

    @pytest.mark.parametrize(
        ("on", "end"),
        [
            ("2019-06-15", "2019-06"),
            ("2019-06", "2019-06-01"),
            ("2019-06", "2019"),
            ("2019", "2019-01"),
        ],
    )
    def test_an_end_date_that_may_be_on_or_after_the_date_is_accepted(
        self, on: str, end: str
    ) -> None:
        assert domain.log_activity(a_ucap(), activity(on=on, end_date=end))

    @pytest.mark.parametrize(("on", "end"), [("2019-06-15", "2019-06-14"), ("2019-06", "2019-05")])
    def test_an_end_date_before_the_date_is_refused_at_end_date(self, on: str, end: str) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.log_activity(a_ucap(), activity(on=on, end_date=end))
        assert locs(raised.value) == [["end_date"]]


class TestUpdatingActivities:
    def test_the_event_carries_the_whole_activity_after_the_change(self) -> None:
        state = with_activities(activity(outcome="Agreed", places=("Haikou",)))
        [event] = domain.update_activity(state, "a1", {"status": ActivityStatus.CANCELLED})
        assert event == UcapActivityUpdated(
            ucap_id=UCAP_ID,
            activity=activity(outcome="Agreed", places=("Haikou",), status="cancelled"),
        )

    def test_changes_given_as_on_the_wire_are_read_as_the_model_reads_them(self) -> None:
        state = with_activities(activity())
        [event] = domain.update_activity(
            state, "a1", {"date": "2018-07-15", "kind": "mission", "status": "postponed"}
        )
        assert isinstance(event, UcapActivityUpdated)
        assert event.activity.date == PartialDate(2018, 7, 15)
        assert event.activity.kind is ActivityKind.MISSION
        assert event.activity.status is ActivityStatus.POSTPONED

    def test_a_change_to_the_same_content_makes_no_event(self) -> None:
        state = with_activities(activity(title="Meeting"))
        assert domain.update_activity(state, "a1", {"title": "Meeting", "date": "2018-07"}) == []

    def test_the_id_in_the_changes_does_not_rename_the_activity(self) -> None:
        state = with_activities(activity())
        [event] = domain.update_activity(state, "a1", {"activity_id": "b2", "title": "Renamed"})
        assert isinstance(event, UcapActivityUpdated)
        assert event.activity.activity_id == "a1"

    def test_an_unknown_activity_is_not_found_naming_it(self) -> None:
        with pytest.raises(NotFoundError) as raised:
            domain.update_activity(with_activities(activity()), "a2", {"title": "x"})
        assert raised.value.context == {"activity_id": "a2"}

    @pytest.mark.parametrize(
        ("changes", "loc"),
        [
            ({"ordinal": 0}, ["ordinal"]),
            ({"title": ""}, ["title"]),
            ({"kind": "party"}, ["kind"]),
            ({"status": "done"}, ["status"]),
            ({"date": "2018-13"}, ["date"]),
            ({"places": ("a", 1)}, ["places", 1]),
            ({"colour": "red"}, ["colour"]),
        ],
    )
    def test_an_invalid_change_is_refused_at_its_field(
        self, changes: dict[str, object], loc: list[str | int]
    ) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.update_activity(with_activities(activity()), "a1", changes)
        assert locs(raised.value) == [loc]
        assert all(loc[0] != "body" for loc in locs(raised.value))

    def test_a_date_moved_after_the_end_is_refused_at_end_date(self) -> None:
        state = with_activities(activity(on="2019-06-01", end_date="2019-06-03"))
        with pytest.raises(InvalidInputError) as raised:
            domain.update_activity(state, "a1", {"date": "2019-07"})
        assert locs(raised.value) == [["end_date"]]

    def test_a_value_twice_after_the_change_is_refused_at_that_list(self) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.update_activity(with_activities(activity()), "a1", {"city_ids": ("a", "a")})
        assert locs(raised.value) == [["city_ids"]]


class TestRemovingActivities:
    def test_removing_makes_one_event_naming_the_activity(self) -> None:
        state = with_activities(activity(), activity("a2"))
        assert domain.remove_activity(state, "a2") == [
            UcapActivityRemoved(ucap_id=UCAP_ID, activity_id="a2")
        ]

    def test_an_activity_removed_already_is_not_found(self) -> None:
        state = with_activities(activity())
        state = applied(state, domain.remove_activity(state, "a1"))
        with pytest.raises(NotFoundError) as raised:
            domain.remove_activity(state, "a1")
        assert raised.value.context == {"activity_id": "a1"}


STEPS = [
    (DeliveryStatus.DRAFT, DeliveryStatus.DELIVERED),
    (DeliveryStatus.DRAFT, DeliveryStatus.FINAL),
    (DeliveryStatus.DELIVERED, DeliveryStatus.FINAL),
]
REACHING = {
    DeliveryStatus.DRAFT: [],
    DeliveryStatus.DELIVERED: [delivered(DeliveryStatus.DELIVERED, "2019-12")],
    DeliveryStatus.FINAL: [delivered(DeliveryStatus.FINAL, "2020-05")],
}


class TestDelivering:
    @pytest.mark.parametrize(("start", "status"), STEPS)
    @pytest.mark.parametrize("with_deliverable", [True, False])
    def test_a_step_forward_makes_its_event(
        self, start: DeliveryStatus, status: DeliveryStatus, with_deliverable: bool
    ) -> None:
        state = applied(a_ucap(), REACHING[start])
        what = deliverable(on="2020-06") if with_deliverable else None
        events = domain.deliver(state, status, PartialDate(2020, 6), what)
        assert events == [delivered(status, "2020-06", what)]

    @pytest.mark.parametrize("with_deliverable", [True, False])
    def test_a_step_back_is_a_conflict_even_with_a_deliverable(
        self, with_deliverable: bool
    ) -> None:
        state = applied(a_ucap(), REACHING[DeliveryStatus.FINAL])
        what = deliverable("Note", kind=DeliverableKind.CONCEPT_NOTE) if with_deliverable else None
        with pytest.raises(ConflictError) as raised:
            domain.deliver(state, DeliveryStatus.DELIVERED, PartialDate(2020, 6), what)
        assert raised.value.context == {"ucap_id": UCAP_ID}

    @pytest.mark.parametrize("status", [DeliveryStatus.DELIVERED, DeliveryStatus.FINAL])
    def test_the_same_status_again_needs_a_deliverable(self, status: DeliveryStatus) -> None:
        state = applied(a_ucap(), REACHING[status])
        with pytest.raises(ConflictError, match="again without a deliverable"):
            domain.deliver(state, status, PartialDate(2020, 6), None)
        note = deliverable("Note", "2020-06", DeliverableKind.CONCEPT_NOTE)
        [event] = domain.deliver(state, status, PartialDate(2020, 6), note)
        assert isinstance(event, UcapDelivered)
        assert event.deliverable == note

    @pytest.mark.parametrize("start", list(DeliveryStatus))
    def test_draft_is_no_delivery_and_is_refused_at_status(self, start: DeliveryStatus) -> None:
        state = applied(a_ucap(), REACHING[start])
        with pytest.raises(InvalidInputError) as raised:
            domain.deliver(state, DeliveryStatus.DRAFT, PartialDate(2020, 6), deliverable())
        assert locs(raised.value) == [["status"]]

    def test_a_deliverable_delivered_already_is_a_conflict(self) -> None:
        state = applied(a_ucap(), [delivered(DeliveryStatus.DELIVERED, "2020-05", deliverable())])
        with pytest.raises(ConflictError, match="delivered already"):
            domain.deliver(state, DeliveryStatus.FINAL, PartialDate(2020, 6), deliverable())

    def test_a_deliverable_of_the_same_title_on_another_date_is_another(self) -> None:
        state = applied(a_ucap(), [delivered(DeliveryStatus.DELIVERED, "2020-05", deliverable())])
        again = deliverable(on="2020-06")
        assert domain.deliver(state, DeliveryStatus.FINAL, PartialDate(2020, 6), again)


class TestWhichRefusalComesFirst:
    def test_an_existing_ucap_is_a_conflict_whatever_the_content(self) -> None:
        with pytest.raises(ConflictError):
            domain.create_ucap(a_ucap(), created(sdgs=(0,)))

    def test_a_required_field_removed_is_named_alone_before_content_problems(self) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.update_sections(a_ucap(), {"title": None, "sdgs": (0,)})
        assert locs(raised.value) == [["title"]]

    def test_an_activity_logged_already_is_a_conflict_whatever_its_content(self) -> None:
        with pytest.raises(ConflictError):
            domain.log_activity(with_activities(activity()), activity(places=("a", "a")))

    def test_an_unknown_activity_is_not_found_whatever_the_changes(self) -> None:
        with pytest.raises(NotFoundError):
            domain.update_activity(a_ucap(), "a1", {"title": ""})

    def test_draft_is_refused_as_input_before_any_conflict(self) -> None:
        state = applied(a_ucap(), REACHING[DeliveryStatus.FINAL])
        with pytest.raises(InvalidInputError):
            domain.deliver(state, DeliveryStatus.DRAFT, PartialDate(2020, 6), None)
