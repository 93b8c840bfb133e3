"""Each of the U-CAP's events through ``evolve``: the state it leaves."""

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
from ucap_reporting.domain import Ucap
from ucap_reporting.events import (
    SECTION_FIELDS,
    ActivityStatus,
    DeliverableKind,
    DeliveryStatus,
    Period,
    Section,
    UcapActivityLogged,
    UcapActivityRemoved,
    UcapActivityUpdated,
    UcapCreated,
    UcapEvent,
    UcapSectionUpdated,
)
from ucap_shared.dates import PartialDate

LIST_FIELDS = [
    name
    for names in SECTION_FIELDS.values()
    for name in names
    if isinstance(getattr(a_ucap(), name), tuple)
]
NULLABLE_FIELDS = ["period", "expected_results", "contact"]


def section(name: Section, **content: object) -> UcapSectionUpdated:
    return UcapSectionUpdated.model_validate({"ucap_id": UCAP_ID, "section": name, **content})


class TestCreated:
    def test_a_ucap_is_a_draft_of_the_events_fields_with_no_activities(self) -> None:
        state = domain.evolve(None, created())
        assert state.model_dump(include=set(UcapCreated.model_fields)) == created().model_dump()
        assert state.activities == ()
        assert (state.delivery_status, state.delivered_on, state.finalised_on) == (
            DeliveryStatus.DRAFT,
            None,
            None,
        )
        assert state.city_ids == ("granada", "haikou", "kunming")

    def test_deliverables_given_at_creation_are_kept_in_their_order(self) -> None:
        given = (deliverable("Concept note", "2018-09"), deliverable("Draft", "2019-01"))
        assert domain.evolve(None, created(deliverables=given)).deliverables == given

    @pytest.mark.parametrize(
        "event",
        [
            UcapSectionUpdated(ucap_id=UCAP_ID, section=Section.TITLE, title="T"),
            UcapActivityLogged(ucap_id=UCAP_ID, activity=activity()),
            UcapActivityUpdated(ucap_id=UCAP_ID, activity=activity()),
            UcapActivityRemoved(ucap_id=UCAP_ID, activity_id="a1"),
            delivered(DeliveryStatus.FINAL, "2020"),
        ],
        ids=lambda event: type(event).__name__,
    )
    def test_any_other_event_before_the_creation_is_refused(self, event: UcapEvent) -> None:
        with pytest.raises(AssertionError, match="before the U-CAP was created"):
            domain.evolve(None, event)

    def test_an_empty_history_folds_to_no_ucap(self) -> None:
        assert domain.fold([]) is None


class TestSectionUpdated:
    def test_a_section_replaces_its_fields_and_leaves_every_other_field(self) -> None:
        before = with_activities(activity())
        after = domain.evolve(
            before,
            section(Section.CITIES, lead_city_id="seville", counterpart_city_ids=("haikou",)),
        )
        assert (after.lead_city_id, after.counterpart_city_ids) == ("seville", ("haikou",))
        assert after.model_dump(
            exclude={"lead_city_id", "counterpart_city_ids"}
        ) == before.model_dump(exclude={"lead_city_id", "counterpart_city_ids"})

    def test_fields_of_other_sections_in_the_event_mean_nothing(self) -> None:
        after = domain.evolve(a_ucap(), section(Section.CONTACT, contact="c", title="Ignored"))
        assert (after.contact, after.title) == ("c", "Granada U-CAP")

    @pytest.mark.parametrize("name", LIST_FIELDS)
    def test_a_list_field_sent_as_null_is_empty(self, name: str) -> None:
        [owner] = [s for s, names in SECTION_FIELDS.items() if name in names]
        after = domain.evolve(a_ucap(), section(owner))
        assert getattr(after, name) == ()

    @pytest.mark.parametrize("name", NULLABLE_FIELDS)
    def test_a_nullable_field_sent_as_null_is_cleared(self, name: str) -> None:
        [owner] = [s for s, names in SECTION_FIELDS.items() if name in names]
        assert getattr(a_ucap(), name) is not None
        assert getattr(domain.evolve(a_ucap(), section(owner)), name) is None

    def test_every_field_of_the_ucap_belongs_to_a_section_or_to_the_timeline(self) -> None:
        in_sections = {name for names in SECTION_FIELDS.values() for name in names}
        others = {"ucap_id", "activities", "delivery_status", "delivered_on", "finalised_on"}
        assert in_sections | others == set(Ucap.model_fields)
        assert set(LIST_FIELDS) | set(NULLABLE_FIELDS) | {"title", "lead_city_id"} == in_sections

    def test_a_new_period_keeps_the_precision_of_its_dates(self) -> None:
        period = Period.model_validate({"from": "2019", "until": "2021-03-31"})
        after = domain.evolve(a_ucap(), section(Section.PERIOD, period=period))
        assert after.period is not None
        assert (after.period.from_.iso(), after.period.until) == ("2019", PartialDate(2021, 3, 31))

    def test_the_events_of_update_sections_leave_the_changes_applied(self) -> None:
        changes: dict[str, object] = {
            "title": "New",
            "sdgs": (1,),
            "contact": None,
            "key_challenges": ("Water",),
        }
        after = applied(a_ucap(), domain.update_sections(a_ucap(), changes))
        assert {name: getattr(after, name) for name in changes} == changes
        assert after.urban_agenda_themes == a_ucap().urban_agenda_themes


class TestActivityLogged:
    def test_the_activity_joins_the_timeline_as_logged(self) -> None:
        logged = activity(status=ActivityStatus.PLANNED, end_date="2018-07-03", ordinal=2)
        after = domain.evolve(a_ucap(), UcapActivityLogged(ucap_id=UCAP_ID, activity=logged))
        assert after.activities == (logged,)
        assert after.activity("a1") == logged

    def test_the_timeline_is_by_date_then_id_whatever_the_precision(self) -> None:
        state = with_activities(
            activity("c", "2019-03-01"),
            activity("b", "2019"),
            activity("a", "2019-03"),
            activity("d", "2019-03"),
            activity("e", "2018-12-31"),
        )
        assert [a.activity_id for a in state.activities] == ["e", "b", "a", "d", "c"]

    def test_a_logged_id_already_there_replaces_the_activity(self) -> None:
        # A replay of a duplicated record must not show an activity twice.
        state = with_activities(activity(title="First"))
        again = UcapActivityLogged(ucap_id=UCAP_ID, activity=activity(title="Again"))
        assert [a.title for a in domain.evolve(state, again).activities] == ["Again"]


class TestActivityUpdated:
    def test_the_new_content_replaces_the_old_and_takes_its_place_by_date(self) -> None:
        state = with_activities(activity("a", "2018-07"), activity("b", "2019-01"))
        moved = activity("a", "2020-01", status=ActivityStatus.POSTPONED)
        after = domain.evolve(state, UcapActivityUpdated(ucap_id=UCAP_ID, activity=moved))
        assert [a.activity_id for a in after.activities] == ["b", "a"]
        assert after.activity("a") == moved

    def test_an_update_of_an_activity_not_there_adds_it(self) -> None:
        update = UcapActivityUpdated(ucap_id=UCAP_ID, activity=activity("z"))
        assert domain.evolve(a_ucap(), update).activities == (activity("z"),)


class TestActivityRemoved:
    def test_only_that_activity_leaves_the_timeline(self) -> None:
        state = with_activities(activity("a", "2018"), activity("b", "2019"), activity("c", "2020"))
        after = domain.evolve(state, UcapActivityRemoved(ucap_id=UCAP_ID, activity_id="b"))
        assert [a.activity_id for a in after.activities] == ["a", "c"]

    def test_removing_an_activity_not_there_leaves_the_state(self) -> None:
        state = with_activities(activity())
        removed = UcapActivityRemoved(ucap_id=UCAP_ID, activity_id="nope")
        assert domain.evolve(state, removed) == state


class TestDelivered:
    def test_delivered_records_the_status_and_the_date_but_not_final(self) -> None:
        after = applied(a_ucap(), [delivered(DeliveryStatus.DELIVERED, "2019-12")])
        assert (after.delivery_status, after.delivered_on, after.finalised_on) == (
            DeliveryStatus.DELIVERED,
            PartialDate(2019, 12),
            None,
        )
        assert after.deliverables == ()

    def test_final_straight_from_draft_is_its_first_delivery_too(self) -> None:
        after = applied(a_ucap(), [delivered(DeliveryStatus.FINAL, "2020-05-04")])
        assert after.delivery_status is DeliveryStatus.FINAL
        assert after.delivered_on == after.finalised_on == PartialDate(2020, 5, 4)

    def test_final_after_delivered_keeps_the_first_delivery_date(self) -> None:
        after = applied(
            a_ucap(),
            [
                delivered(DeliveryStatus.DELIVERED, "2019-12"),
                delivered(DeliveryStatus.FINAL, "2020"),
            ],
        )
        assert (after.delivered_on, after.finalised_on) == (
            PartialDate(2019, 12),
            PartialDate(2020),
        )

    def test_final_again_keeps_both_dates_and_adds_the_deliverable(self) -> None:
        note = deliverable("Note", "2020-09", DeliverableKind.CONCEPT_NOTE)
        after = applied(
            a_ucap(),
            [
                delivered(DeliveryStatus.FINAL, "2020-05", deliverable()),
                delivered(DeliveryStatus.FINAL, "2020-09", note),
            ],
        )
        assert (after.delivered_on, after.finalised_on) == (
            PartialDate(2020, 5),
            PartialDate(2020, 5),
        )
        assert after.deliverables == (deliverable(), note)

    def test_delivered_again_keeps_the_first_delivery_date(self) -> None:
        note = deliverable("Note", "2020-02", DeliverableKind.CONCEPT_NOTE)
        after = applied(
            a_ucap(),
            [
                delivered(DeliveryStatus.DELIVERED, "2019-12"),
                delivered(DeliveryStatus.DELIVERED, "2020-02", note),
            ],
        )
        assert after.delivered_on == PartialDate(2019, 12)

    def test_deliverables_are_appended_after_those_of_the_creation(self) -> None:
        first = deliverable("Concept note", "2018-09", DeliverableKind.CONCEPT_NOTE)
        after = applied(
            a_ucap(deliverables=(first,)),
            [delivered(DeliveryStatus.DELIVERED, "2019-12", deliverable("Draft", "2019-12"))],
        )
        assert after.deliverables == (first, deliverable("Draft", "2019-12"))

    def test_a_delivery_leaves_the_content_and_the_timeline(self) -> None:
        before = with_activities(activity())
        after = applied(before, [delivered(DeliveryStatus.FINAL, "2020", deliverable())])
        changed = {"delivery_status", "delivered_on", "finalised_on", "deliverables"}
        assert after.model_dump(exclude=changed) == before.model_dump(exclude=changed)
