"""Proposing a pilot and editing its details: the events made, and every refusal with its field."""

import pytest

from tests.services.pilots.aggregate_examples import (
    CITIES,
    MOUS,
    PILOT_ID,
    UCAP_CITIES,
    a_pilot,
    closed_pilot,
    proposed,
)
from ucap_pilots import domain
from ucap_pilots.events import PartnerCity, PilotDetailsUpdated, Role
from ucap_shared.errors import ConflictError, InvalidInputError

GRANADA_LEADS = PartnerCity(city_id="granada", role=Role.LEAD)
KUNMING = PartnerCity(city_id="kunming", role=Role.PARTNER)


def problems_of(error: pytest.ExceptionInfo[InvalidInputError]) -> list[list[str | int]]:
    return [problem.loc for problem in error.value.problems]


def refused_proposal(**fields: object) -> list[list[str | int]]:
    with pytest.raises(InvalidInputError) as error:
        domain.propose_pilot(None, proposed(**fields), CITIES, MOUS, UCAP_CITIES)
    return problems_of(error)


class TestProposing:
    def test_an_acceptable_proposal_is_its_own_event(self) -> None:
        command = proposed(mou_ids=("granada-kunming-2019",), ucap_id="granada-ucap")
        assert domain.propose_pilot(None, command, CITIES, MOUS, UCAP_CITIES) == [command]

    def test_a_pilot_id_taken_is_a_conflict(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.propose_pilot(a_pilot(), proposed(), CITIES, MOUS)
        assert error.value.context == {"pilot_id": PILOT_ID}

    def test_an_id_not_starting_with_the_lead_city_is_refused(self) -> None:
        assert refused_proposal(pilot_id="blocklab") == [["id"]]

    def test_an_unknown_lead_city_is_refused(self) -> None:
        partners = (PartnerCity(city_id="atlantis", role=Role.LEAD),)
        locs = refused_proposal(pilot_id="atlantis-x", lead_city_id="atlantis", partners=partners)
        assert locs == [["lead_city_id"]]

    def test_a_city_listed_twice_is_refused(self) -> None:
        assert refused_proposal(partners=(GRANADA_LEADS, KUNMING, KUNMING)) == [
            ["partners", 2, "city_id"]
        ]

    def test_only_the_lead_city_may_be_lead(self) -> None:
        kunming_leads = PartnerCity(city_id="kunming", role=Role.LEAD)
        assert refused_proposal(partners=(GRANADA_LEADS, kunming_leads)) == [
            ["partners", 1, "role"]
        ]

    def test_an_unknown_partner_city_is_refused(self) -> None:
        atlantis = PartnerCity(city_id="atlantis", role=Role.FUNDING)
        assert refused_proposal(partners=(GRANADA_LEADS, atlantis)) == [["partners", 1, "city_id"]]

    def test_the_lead_city_must_be_listed_as_lead(self) -> None:
        granada_partner = PartnerCity(city_id="granada", role=Role.PARTNER)
        assert refused_proposal(partners=(granada_partner, KUNMING)) == [["partners"]]

    def test_an_unknown_mou_is_refused(self) -> None:
        locs = refused_proposal(mou_ids=("granada-kunming-2019", "nope"))
        assert locs == [["mou_ids", 1]]

    def test_a_target_of_a_goal_not_listed_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.propose_pilot(None, proposed(sdg_targets=("11.3", "3.1")), CITIES, MOUS)
        assert problems_of(error) == [["sdg_targets", 1]]
        assert "SDG 3" in error.value.problems[0].msg

    def test_an_unknown_ucap_asks_for_a_retry(self) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.propose_pilot(None, proposed(ucap_id="ghost-ucap"), CITIES, MOUS, None)
        assert problems_of(error) == [["ucap_id"]]
        assert "retry" in error.value.problems[0].msg

    def test_a_ucap_the_lead_city_takes_no_part_in_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.propose_pilot(
                None, proposed(ucap_id="kunming-ucap"), CITIES, MOUS, frozenset({"kunming"})
            )
        assert problems_of(error) == [["ucap_id"]]
        assert "neither the lead nor a counterpart" in error.value.problems[0].msg

    def test_every_problem_is_reported_at_once(self) -> None:
        locs = refused_proposal(pilot_id="blocklab", mou_ids=("nope",), sdg_targets=("3.1",))
        assert locs == [["id"], ["mou_ids", 0], ["sdg_targets", 0]]


class TestTheLeadCityAmongThePartners:
    def test_the_lead_city_left_out_is_added_last_as_lead(self) -> None:
        assert domain.with_lead("granada", [KUNMING]) == (KUNMING, GRANADA_LEADS)

    def test_the_lead_city_listed_is_left_as_listed(self) -> None:
        granada_partner = PartnerCity(city_id="granada", role=Role.PARTNER)
        assert domain.with_lead("granada", [granada_partner]) == (granada_partner,)


def details(**changes: object) -> PilotDetailsUpdated:
    return PilotDetailsUpdated.model_validate({"pilot_id": PILOT_ID, **changes})


def refused_edit(**changes: object) -> list[list[str | int]]:
    with pytest.raises(InvalidInputError) as error:
        domain.update_details(a_pilot(), details(**changes), CITIES, MOUS, UCAP_CITIES)
    return problems_of(error)


class TestEditingDetails:
    def test_only_the_fields_that_change_make_the_event(self) -> None:
        events = domain.update_details(
            a_pilot(), details(title="BlockLab", cluster="Smart City"), CITIES, MOUS
        )
        assert events == [details(cluster="Smart City")]
        assert events[0].model_dump() == {"pilot_id": PILOT_ID, "cluster": "Smart City"}

    def test_no_change_makes_no_event(self) -> None:
        assert domain.update_details(a_pilot(), details(title="BlockLab"), CITIES, MOUS) == []

    def test_a_field_may_be_cleared(self) -> None:
        events = domain.update_details(a_pilot(), details(cluster=None), CITIES, MOUS)
        assert [event.model_dump() for event in events] == [{"pilot_id": PILOT_ID, "cluster": None}]

    def test_a_ucap_its_lead_city_takes_part_in_may_be_named(self) -> None:
        events = domain.update_details(
            a_pilot(), details(ucap_id="granada-ucap"), CITIES, MOUS, UCAP_CITIES
        )
        assert events == [details(ucap_id="granada-ucap")]

    def test_a_closed_pilot_takes_no_change_of_details(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.update_details(closed_pilot(), details(title="Other"), CITIES, MOUS)
        assert error.value.context == {"pilot_id": PILOT_ID, "status": "cancelled"}

    def test_new_partners_are_checked(self) -> None:
        atlantis = PartnerCity(city_id="atlantis", role=Role.PARTNER)
        assert refused_edit(partners=(GRANADA_LEADS, atlantis)) == [["partners", 1, "city_id"]]

    def test_new_mous_are_checked(self) -> None:
        assert refused_edit(mou_ids=("nope",)) == [["mou_ids", 0]]

    def test_a_new_ucap_is_checked(self) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.update_details(a_pilot(), details(ucap_id="ghost-ucap"), CITIES, MOUS, None)
        assert problems_of(error) == [["ucap_id"]]

    def test_goals_are_checked_against_the_targets_kept(self) -> None:
        assert refused_edit(sdg_goals=(9,)) == [["sdg_targets", 0]]

    def test_targets_are_checked_against_the_goals_kept(self) -> None:
        assert refused_edit(sdg_targets=("11.3", "17.1")) == [["sdg_targets", 1]]
