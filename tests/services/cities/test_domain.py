"""The city aggregate's rules, without I/O."""

import pytest
from pydantic import ValidationError

from ucap_cities import domain
from ucap_cities.domain import City, RegisterCity
from ucap_cities.events import (
    CityProfileUpdated,
    CityRegistered,
    ClusterJoined,
    ClusterLeft,
    Population,
    StakeholderAdded,
    StakeholderData,
    StakeholderKind,
    StakeholderRemoved,
    WorldRegion,
)

UGR = StakeholderData(
    stakeholder_id="university-of-granada",
    name="University of Granada",
    kind=StakeholderKind.UNIVERSITY,
)


def granada_command(**changes: object) -> RegisterCity:
    fields: dict[str, object] = {
        "city_id": "granada",
        "name": "Granada",
        "native_name": None,
        "region": "Andalusia",
        "country": "ES",
        "world_region": WorldRegion.EUROPE,
        "population": Population(known=True, value=236000, year=2018),
        "area_km2": 88.0,
        "clusters": ("Smart City",),
        "stakeholders": (UGR,),
    }
    return RegisterCity(**{**fields, **changes})  # type: ignore[arg-type]


def granada() -> City:
    city = domain.fold(domain.register_city(None, granada_command()))
    assert city is not None
    return city


class TestRegistration:
    def test_registers_the_profile_then_adds_each_stakeholder(self) -> None:
        events = domain.register_city(None, granada_command())

        assert [type(e) for e in events] == [CityRegistered, StakeholderAdded]
        assert events[0].model_dump(mode="json")["population"] == {
            "known": True,
            "value": 236000,
            "year": 2018,
        }

    def test_refuses_a_city_already_registered(self) -> None:
        with pytest.raises(domain.CityAlreadyRegisteredError):
            domain.register_city(granada(), granada_command())

    def test_folding_the_events_gives_the_city_at_their_version(self) -> None:
        city = granada()

        assert city.name == "Granada"
        assert city.stakeholders == (UGR,)
        assert city.version == 2


class TestPopulation:
    def test_unknown_has_no_value_and_no_year(self) -> None:
        assert Population.unknown().model_dump() == {"known": False, "value": None, "year": None}

    @pytest.mark.parametrize(
        "fields",
        [
            {"known": True, "value": 236000},
            {"known": True, "year": 2018},
            {"known": False, "value": 1},
        ],
    )
    def test_refuses_inconsistent_figures(self, fields: dict[str, object]) -> None:
        with pytest.raises(ValidationError):
            Population.model_validate(fields)


class TestProfileUpdate:
    def test_records_only_the_fields_that_differ(self) -> None:
        changes = {"name": "Granada", "region": "Andalucía", "native_name": None}

        events = domain.update_profile(granada(), "granada", changes)

        assert [e.model_dump(mode="json") for e in events] == [
            {"city_id": "granada", "region": "Andalucía"}
        ]

    def test_a_cleared_field_is_recorded_as_null(self) -> None:
        events = domain.update_profile(granada(), "granada", {"area_km2": None})

        assert events[0].model_dump(mode="json") == {"city_id": "granada", "area_km2": None}

    def test_no_difference_no_event(self) -> None:
        same = {"population": Population(known=True, value=236000, year=2018), "area_km2": 88}

        assert domain.update_profile(granada(), "granada", same) == []

    def test_folding_applies_only_the_changed_fields(self) -> None:
        event = CityProfileUpdated.model_validate({"city_id": "granada", "area_km2": 88.5})

        city = domain.evolve(granada(), event)

        assert (city.area_km2, city.region, city.version) == (88.5, "Andalusia", 3)

    def test_an_unknown_city_is_not_found(self) -> None:
        with pytest.raises(domain.CityNotFoundError):
            domain.update_profile(None, "atlantis", {"name": "Atlantis"})


class TestStakeholders:
    def test_refuses_a_second_stakeholder_with_the_same_id(self) -> None:
        with pytest.raises(domain.StakeholderAlreadyAddedError):
            domain.add_stakeholder(granada(), "granada", UGR)

    def test_removing_an_unknown_stakeholder_is_not_found(self) -> None:
        with pytest.raises(domain.StakeholderNotFoundError):
            domain.remove_stakeholder(granada(), "granada", "nobody")

    def test_removed_stakeholder_is_gone(self) -> None:
        events = domain.remove_stakeholder(granada(), "granada", UGR.stakeholder_id)

        assert events == [StakeholderRemoved(city_id="granada", stakeholder_id=UGR.stakeholder_id)]
        assert domain.evolve(granada(), events[0]).stakeholders == ()


class TestClusters:
    def test_joining_twice_is_a_conflict(self) -> None:
        with pytest.raises(domain.AlreadyClusterMemberError):
            domain.join_cluster(granada(), "granada", "Smart City")

    def test_leaving_a_cluster_not_joined_is_not_found(self) -> None:
        with pytest.raises(domain.NotClusterMemberError):
            domain.leave_cluster(granada(), "granada", "Circular Economy")

    def test_join_then_leave_keeps_the_other_clusters_in_order(self) -> None:
        city = domain.evolve(
            granada(), ClusterJoined(city_id="granada", cluster="Circular Economy")
        )
        city = domain.evolve(city, ClusterLeft(city_id="granada", cluster="Smart City"))

        assert city.clusters == ("Circular Economy",)
