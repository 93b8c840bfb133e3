"""The city's commands: the events each returns, and each refusal in the domain's own terms."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.cities_examples import (
    CITY_ID,
    POPULATION,
    a_city,
    applied,
    register,
    registered,
    stakeholder,
)
from ucap_cities import domain
from ucap_cities.domain import PROFILE_FIELDS, City
from ucap_cities.events import (
    CityKind,
    CityProfileUpdated,
    ClusterJoined,
    ClusterLeft,
    Population,
    StakeholderAdded,
    StakeholderKind,
    StakeholderRemoved,
    WorldRegion,
)
from ucap_shared.problems import ConflictError, InvalidInputError, NotFoundError

UGR = stakeholder("university-of-granada")
PTS = stakeholder("pts-granada", kind=StakeholderKind.SCIENCE_OR_HEALTH_PARK)

# A value for each profile field that differs from Granada's as registered.
NEW_VALUES: dict[str, object] = {
    "kind": CityKind.METROPOLITAN_AUTHORITY,
    "name": "Granada (city)",
    "native_name": "Graná",
    "region": "Andalucía",
    "country": "PT",
    "world_region": WorldRegion.AFRICA,
    "population": Population(known=True, value=232208, year=2020),
    "area_km2": 88.02,
}

Command = Callable[[City | None], object]
COMMANDS_ON_A_CITY: dict[str, Command] = {
    "update_profile": lambda city: domain.update_profile(city, CITY_ID, {"name": "Granada"}),
    "add_stakeholder": lambda city: domain.add_stakeholder(city, CITY_ID, UGR),
    "remove_stakeholder": lambda city: domain.remove_stakeholder(city, CITY_ID, "ugr"),
    "join_cluster": lambda city: domain.join_cluster(city, CITY_ID, "Smart City"),
    "leave_cluster": lambda city: domain.leave_cluster(city, CITY_ID, "Smart City"),
}


class TestRegisterCity:
    def test_the_registration_carries_every_field_of_the_command(self) -> None:
        [event] = domain.register_city(None, register(clusters=("Smart City", "Circular Economy")))
        assert event == registered(clusters=["Smart City", "Circular Economy"])

    def test_each_stakeholder_is_added_after_the_registration_in_the_order_given(self) -> None:
        events = domain.register_city(None, register(stakeholders=(PTS, UGR)))
        assert events[1:] == [
            StakeholderAdded(city_id=CITY_ID, stakeholder=PTS),
            StakeholderAdded(city_id=CITY_ID, stakeholder=UGR),
        ]

    @pytest.mark.parametrize("kind", list(CityKind))
    def test_the_kind_of_authority_is_carried(self, kind: CityKind) -> None:
        [event] = domain.register_city(None, register(kind=kind))
        assert event.model_dump(mode="json")["kind"] == kind.value

    def test_a_city_registered_with_other_fields_is_still_a_conflict_naming_it(self) -> None:
        with pytest.raises(ConflictError) as refused:
            domain.register_city(a_city(), register(clusters=(), kind=CityKind.REGION))
        assert refused.value.kind == "conflict"
        assert refused.value.context == {"city_id": CITY_ID}


class TestUpdateProfile:
    def test_every_profile_field_has_a_value_differing_from_granada_s(self) -> None:
        city = a_city()
        assert set(NEW_VALUES) == set(PROFILE_FIELDS)
        assert all(getattr(city, name) != value for name, value in NEW_VALUES.items())

    @pytest.mark.parametrize("name", PROFILE_FIELDS)
    def test_a_field_that_differs_is_the_only_change_recorded(self, name: str) -> None:
        [event] = domain.update_profile(a_city(), CITY_ID, {name: NEW_VALUES[name]})
        assert event.changes() == {name: NEW_VALUES[name]}
        assert event.city_id == CITY_ID

    def test_several_changes_are_recorded_in_one_event(self) -> None:
        events = domain.update_profile(a_city(), CITY_ID, NEW_VALUES)
        assert events == [CityProfileUpdated(city_id=CITY_ID, **NEW_VALUES)]  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "changes",
        [
            {},
            {"kind": "city", "world_region": "Europe"},
            {"population": Population(known=True, value=236000, year=2018), "country": "ES"},
        ],
        ids=["nothing", "enum-values-as-text", "equal-models"],
    )
    def test_values_equal_to_the_current_ones_record_nothing(self, changes: dict[str, Any]) -> None:
        assert domain.update_profile(a_city(), CITY_ID, changes) == []

    def test_an_unknown_population_replacing_a_known_one_is_recorded(self) -> None:
        [event] = domain.update_profile(a_city(), CITY_ID, {"population": Population.unknown()})
        assert event.changes() == {"population": Population.unknown()}
        assert a_city().population == POPULATION

    @pytest.mark.parametrize("name", ["city_id", "clusters", "stakeholders", "version"])
    def test_a_field_outside_the_profile_is_a_programming_error(self, name: str) -> None:
        with pytest.raises(ValueError, match=f"not profile fields: \\['{name}'\\]"):
            domain.update_profile(a_city(), CITY_ID, {name: "x", "name": "Granada"})

    @pytest.mark.parametrize("name", ["kind", "name", "country", "world_region", "population"])
    def test_a_field_that_cannot_be_null_is_not_cleared(self, name: str) -> None:
        with pytest.raises(InvalidInputError) as refused:
            domain.update_profile(a_city(), CITY_ID, {name: None})
        assert [problem.loc for problem in refused.value.problems] == [[name]]


class TestStakeholders:
    def test_a_new_stakeholder_is_added_with_all_its_data(self) -> None:
        website = stakeholder(website="https://www.ugr.es/")
        events = domain.add_stakeholder(a_city(stakeholders=(PTS,)), CITY_ID, website)
        assert events == [StakeholderAdded(city_id=CITY_ID, stakeholder=website)]

    def test_another_stakeholder_with_a_held_id_is_a_conflict_naming_both(self) -> None:
        renamed = stakeholder(UGR.stakeholder_id, name="UGR", kind=StakeholderKind.OTHER)
        with pytest.raises(ConflictError) as refused:
            domain.add_stakeholder(a_city(stakeholders=(UGR,)), CITY_ID, renamed)
        assert refused.value.context == {"city_id": CITY_ID, "stakeholder_id": UGR.stakeholder_id}

    def test_a_held_stakeholder_is_removed_by_its_id(self) -> None:
        events = domain.remove_stakeholder(a_city(stakeholders=(UGR, PTS)), CITY_ID, "pts-granada")
        assert events == [StakeholderRemoved(city_id=CITY_ID, stakeholder_id="pts-granada")]

    def test_removing_a_stakeholder_not_held_is_not_found_naming_both(self) -> None:
        with pytest.raises(NotFoundError) as refused:
            domain.remove_stakeholder(a_city(stakeholders=(UGR,)), CITY_ID, "pts-granada")
        assert refused.value.kind == "not_found"
        assert refused.value.context == {"city_id": CITY_ID, "stakeholder_id": "pts-granada"}

    def test_a_removed_stakeholder_can_be_added_again(self) -> None:
        city = a_city(stakeholders=(UGR,))
        city = applied(city, domain.remove_stakeholder(city, CITY_ID, UGR.stakeholder_id))
        assert domain.add_stakeholder(city, CITY_ID, UGR) == [
            StakeholderAdded(city_id=CITY_ID, stakeholder=UGR)
        ]


class TestClusters:
    def test_joining_a_new_cluster_records_it(self) -> None:
        events = domain.join_cluster(a_city(), CITY_ID, "Circular Economy")
        assert events == [ClusterJoined(city_id=CITY_ID, cluster="Circular Economy")]

    def test_cluster_names_are_compared_exactly(self) -> None:
        events = domain.join_cluster(a_city(), CITY_ID, "smart city")
        assert events == [ClusterJoined(city_id=CITY_ID, cluster="smart city")]

    def test_joining_a_cluster_held_is_a_conflict_naming_both(self) -> None:
        with pytest.raises(ConflictError) as refused:
            domain.join_cluster(a_city(), CITY_ID, "Smart City")
        assert refused.value.context == {"city_id": CITY_ID, "cluster": "Smart City"}

    def test_leaving_a_cluster_held_records_it(self) -> None:
        events = domain.leave_cluster(a_city(), CITY_ID, "Smart City")
        assert events == [ClusterLeft(city_id=CITY_ID, cluster="Smart City")]

    def test_leaving_a_cluster_not_held_is_not_found_naming_both(self) -> None:
        with pytest.raises(NotFoundError) as refused:
            domain.leave_cluster(a_city(clusters=()), CITY_ID, "Smart City")
        assert refused.value.context == {"city_id": CITY_ID, "cluster": "Smart City"}

    def test_a_cluster_left_can_be_joined_again(self) -> None:
        city = applied(a_city(), domain.leave_cluster(a_city(), CITY_ID, "Smart City"))
        assert domain.join_cluster(city, CITY_ID, "Smart City") == [
            ClusterJoined(city_id=CITY_ID, cluster="Smart City")
        ]


class TestACityNotRegistered:
    @pytest.mark.parametrize("command", COMMANDS_ON_A_CITY.values(), ids=COMMANDS_ON_A_CITY)
    def test_every_command_on_it_is_not_found_naming_it(self, command: Command) -> None:
        with pytest.raises(NotFoundError) as refused:
            command(None)
        assert refused.value.kind == "not_found"
        assert refused.value.context == {"city_id": CITY_ID}
        assert str(refused.value) == f"no city {CITY_ID!r}"

    def test_its_existence_is_checked_before_the_fields(self) -> None:
        with pytest.raises(NotFoundError):
            domain.update_profile(None, CITY_ID, {"clusters": []})


class TestIdTaken:
    def test_an_id_held_by_another_kind_of_aggregate_is_a_conflict_naming_it(self) -> None:
        error = domain.IdTakenError("kunming", "an organisation, not a city")
        assert isinstance(error, ConflictError)
        assert error.context == {"id": "kunming"}
        assert str(error) == "'kunming' is the id of an organisation, not a city"
