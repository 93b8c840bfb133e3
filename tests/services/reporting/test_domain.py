"""The U-CAP aggregate: folding, rules, commands to events (pure, no I/O)."""

import pytest

from ucap_reporting import domain
from ucap_reporting.domain import Ucap
from ucap_reporting.events import (
    Activity,
    ActivityKind,
    Deliverable,
    DeliverableKind,
    DeliveryStatus,
    Period,
    Section,
    Theme,
    UcapActivityLogged,
    UcapCreated,
    UcapDelivered,
    UcapSectionUpdated,
)
from ucap_shared.dates import PartialDate
from ucap_shared.errors import ConflictError, InvalidInputError, NotFoundError


def created(**fields: object) -> UcapCreated:
    values: dict[str, object] = {
        "ucap_id": "granada-ucap",
        "title": "Granada U-CAP",
        "lead_city_id": "granada",
        "counterpart_city_ids": ("haikou", "kunming"),
        "period": Period.model_validate({"from": "2018-06", "until": "2020-11"}),
        "themes": (Theme(title="Smart City", key_focus="Liudong"),),
        "sdgs": (9, 11),
        "urban_agenda_themes": ("Digital Transition",),
        "key_challenges": (),
        "main_objectives": (),
        "expected_results": None,
        "contact": None,
        "deliverables": (),
        **fields,
    }
    return UcapCreated.model_validate(values)


def ucap() -> Ucap:
    state = domain.fold(domain.create_ucap(None, created()))
    assert state is not None
    return state


def activity(activity_id: str = "a1", on: str = "2018-07", **fields: object) -> Activity:
    return Activity.model_validate(
        {"activity_id": activity_id, "date": on, "kind": "meeting", "title": "Meeting", **fields}
    )


class TestCreating:
    def test_a_new_ucap_is_a_draft_with_its_content(self) -> None:
        state = ucap()
        assert state.delivery_status is DeliveryStatus.DRAFT
        assert state.counterpart_city_ids == ("haikou", "kunming")
        assert state.period is not None
        assert state.period.from_ == PartialDate(2018, 6)

    def test_an_existing_id_is_a_conflict(self) -> None:
        with pytest.raises(ConflictError):
            domain.create_ucap(ucap(), created())

    def test_every_content_problem_is_reported_at_once(self) -> None:
        bad = created(
            counterpart_city_ids=("granada", "haikou", "haikou"),
            sdgs=(0, 18),
            period=Period.model_validate({"from": "2020-01", "until": "2019-01"}),
        )
        with pytest.raises(InvalidInputError) as raised:
            domain.create_ucap(None, bad)
        locs = [tuple(p.loc) for p in raised.value.problems]
        assert ("sdgs", 0) in locs
        assert ("sdgs", 1) in locs
        assert ("period", "until") in locs
        assert sum(1 for loc in locs if loc == ("counterpart_city_ids",)) == 2


class TestEditingSections:
    def test_one_event_per_changed_section_and_none_for_unchanged(self) -> None:
        events = domain.update_sections(
            ucap(), {"sdgs": (3, 4, 9, 11), "contact": "iuc@example.org", "title": "Granada U-CAP"}
        )
        assert [e.section for e in events if isinstance(e, UcapSectionUpdated)] == [
            Section.GOALS,
            Section.CONTACT,
        ]

    def test_a_section_event_keeps_the_sections_other_fields(self) -> None:
        (event,) = domain.update_sections(ucap(), {"sdgs": (3,)})
        state = domain.evolve(ucap(), event)
        assert state.sdgs == (3,)
        assert state.urban_agenda_themes == ("Digital Transition",)

    def test_the_lead_cannot_become_a_counterpart(self) -> None:
        with pytest.raises(InvalidInputError):
            domain.update_sections(ucap(), {"counterpart_city_ids": ("granada",)})


class TestTimeline:
    def test_activities_fold_in_date_order(self) -> None:
        state = ucap()
        for a in (activity("b", "2019-04"), activity("a", "2018-07")):
            (event,) = domain.log_activity(state, a)
            state = domain.evolve(state, event)
        assert [a.activity_id for a in state.activities] == ["a", "b"]

    def test_logging_an_activity_twice_is_a_conflict(self) -> None:
        state = domain.evolve(
            ucap(), UcapActivityLogged(ucap_id="granada-ucap", activity=activity())
        )
        with pytest.raises(ConflictError):
            domain.log_activity(state, activity())

    def test_editing_changes_only_the_fields_given(self) -> None:
        state = domain.evolve(
            ucap(), UcapActivityLogged(ucap_id="granada-ucap", activity=activity())
        )
        (event,) = domain.update_activity(state, "a1", {"ordinal": 5, "kind": ActivityKind.MISSION})
        changed = domain.evolve(state, event).activity("a1")
        assert changed is not None
        assert changed.ordinal == 5
        assert changed.title == "Meeting"

    def test_removing_an_unknown_activity_is_not_found(self) -> None:
        with pytest.raises(NotFoundError):
            domain.remove_activity(ucap(), "nope")


class TestDelivery:
    deliverable = Deliverable(title="U-CAP", date=PartialDate(2020, 5), kind=DeliverableKind.UCAP)

    def test_final_records_the_date_and_the_deliverable(self) -> None:
        (event,) = domain.deliver(
            ucap(), DeliveryStatus.FINAL, PartialDate(2020, 5), self.deliverable
        )
        state = domain.evolve(ucap(), event)
        assert state.delivery_status is DeliveryStatus.FINAL
        assert state.finalised_on == PartialDate(2020, 5)
        assert state.deliverables == (self.deliverable,)

    def test_delivery_never_goes_back(self) -> None:
        final = domain.evolve(
            ucap(),
            UcapDelivered(
                ucap_id="granada-ucap",
                status=DeliveryStatus.FINAL,
                delivered_on=PartialDate(2020, 5),
                deliverable=None,
            ),
        )
        with pytest.raises(ConflictError):
            domain.deliver(final, DeliveryStatus.DELIVERED, PartialDate(2020, 6), None)
        with pytest.raises(ConflictError):
            domain.deliver(final, DeliveryStatus.FINAL, PartialDate(2020, 6), None)
        note = Deliverable(
            title="Note", date=PartialDate(2020, 6), kind=DeliverableKind.CONCEPT_NOTE
        )
        assert domain.deliver(final, DeliveryStatus.FINAL, PartialDate(2020, 6), note)


class TestRequiredSections:
    @pytest.mark.parametrize("name", ["title", "lead_city_id", "counterpart_city_ids"])
    def test_a_patch_cannot_remove_a_required_field(self, name: str) -> None:
        with pytest.raises(InvalidInputError) as raised:
            domain.update_sections(ucap(), {name: None})
        assert [p.loc for p in raised.value.problems] == [[name]]


class TestActivityChanges:
    @pytest.mark.parametrize("name", ["date", "kind", "title", "places", "outcome"])
    def test_a_change_that_leaves_an_invalid_activity_is_refused_naming_the_field(
        self, name: str
    ) -> None:
        state = domain.evolve(
            ucap(), UcapActivityLogged(ucap_id="granada-ucap", activity=activity())
        )
        with pytest.raises(InvalidInputError) as raised:
            domain.update_activity(state, "a1", {name: None})
        assert [p.loc for p in raised.value.problems] == [[name]]
