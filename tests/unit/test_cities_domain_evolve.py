"""Each of the city's events through ``evolve``: the state it leaves."""

from dataclasses import replace
from typing import Any

import pytest
from pydantic import TypeAdapter

from tests.unit.cities_examples import (
    CITY_ID,
    POPULATION,
    a_city,
    registered,
    stakeholder,
)
from ucap_cities import domain
from ucap_cities.domain import City
from ucap_cities.events import (
    CityEvent,
    CityKind,
    CityProfileUpdated,
    CityRegistered,
    ClusterJoined,
    ClusterLeft,
    Population,
    StakeholderAdded,
    StakeholderRemoved,
    WorldRegion,
)

UGR = stakeholder("university-of-granada")
PTS = stakeholder("pts-granada")
CITIES = TypeAdapter(City)


def updated(**changes: object) -> CityProfileUpdated:
    return CityProfileUpdated.model_validate({"city_id": CITY_ID, **changes})


def as_stored(event: CityProfileUpdated) -> CityProfileUpdated:
    """The event as the event store writes its data and a reader parses it back."""
    return CityProfileUpdated.model_validate(event.model_dump(mode="json"))


class TestRegistered:
    def test_a_registration_makes_a_city_of_its_fields_at_version_one(self) -> None:
        city = domain.evolve(None, registered(clusters=["Smart City", "Circular Economy"]))
        assert city == City(
            city_id=CITY_ID,
            name="Granada",
            native_name="Granada",
            region="Andalusia",
            country="ES",
            world_region=WorldRegion.EUROPE,
            population=POPULATION,
            area_km2=88.0,
            clusters=("Smart City", "Circular Economy"),
            stakeholders=(),
            version=1,
            kind=CityKind.CITY,
        )

    def test_a_registration_written_before_kinds_existed_is_a_city(self) -> None:
        old = registered().model_dump(mode="json", exclude={"kind"})
        assert domain.evolve(None, CityRegistered.model_validate(old)).kind is CityKind.CITY

    def test_a_registration_with_nothing_known_leaves_nulls(self) -> None:
        event = registered(
            native_name=None, region=None, population=Population.unknown(), area_km2=None
        )
        city = domain.evolve(None, event)
        assert (city.native_name, city.region, city.area_km2) == (None, None, None)
        assert city.population == Population.unknown()

    def test_a_second_registration_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="twice"):
            domain.evolve(a_city(stakeholders=(UGR,)), registered())


class TestBeforeRegistration:
    @pytest.mark.parametrize(
        "event",
        [
            updated(name="Granada"),
            StakeholderAdded(city_id=CITY_ID, stakeholder=UGR),
            StakeholderRemoved(city_id=CITY_ID, stakeholder_id=UGR.stakeholder_id),
            ClusterJoined(city_id=CITY_ID, cluster="Smart City"),
            ClusterLeft(city_id=CITY_ID, cluster="Smart City"),
        ],
        ids=lambda event: type(event).__name__,
    )
    def test_any_other_event_is_an_error_naming_its_type(self, event: CityEvent) -> None:
        with pytest.raises(ValueError, match=f"^{event.event_type} before ucap.city.registered"):
            domain.evolve(None, event)


class TestProfileUpdated:
    @pytest.mark.parametrize(
        "changes",
        [
            {"kind": CityKind.COMBINED_AUTHORITY},
            {"name": "Granada (city)"},
            {"native_name": "Graná"},
            {"region": "Andalucía"},
            {"country": "PT"},
            {"world_region": WorldRegion.AFRICA},
            {"population": Population(known=True, value=232208, year=2020)},
            {"area_km2": 88.02},
            {"native_name": None, "region": None, "area_km2": None},
        ],
        ids=lambda changes: "+".join(changes),
    )
    def test_the_fields_present_change_and_all_else_stays(self, changes: dict[str, Any]) -> None:
        city = a_city(stakeholders=(UGR,))
        assert domain.evolve(city, updated(**changes)) == replace(
            city, **changes, version=city.version + 1
        )

    def test_an_event_changing_nothing_still_counts_as_a_version(self) -> None:
        city = a_city()
        assert domain.evolve(city, updated()) == replace(city, version=2)

    def test_an_update_read_back_from_the_store_changes_only_its_fields(self) -> None:
        event = updated(population=Population.unknown(), area_km2=None)
        city = a_city()
        assert domain.evolve(city, as_stored(event)) == domain.evolve(city, event)

    def test_an_update_serialised_as_json_and_read_back_changes_only_its_fields(self) -> None:
        event = updated(region="Andalucía")
        read_back = CityProfileUpdated.model_validate_json(event.model_dump_json())
        assert domain.evolve(a_city(), read_back) == domain.evolve(a_city(), event)


class TestStakeholders:
    def test_an_added_stakeholder_comes_after_those_held(self) -> None:
        city = domain.evolve(
            a_city(stakeholders=(UGR,)), StakeholderAdded(city_id=CITY_ID, stakeholder=PTS)
        )
        assert (city.stakeholders, city.version) == ((UGR, PTS), 3)
        assert city.stakeholder(PTS.stakeholder_id) == PTS

    def test_a_removed_stakeholder_is_gone_and_the_others_keep_their_order(self) -> None:
        third = stakeholder("granada-city-council")
        city = a_city(stakeholders=(UGR, PTS, third))
        removed = StakeholderRemoved(city_id=CITY_ID, stakeholder_id=PTS.stakeholder_id)
        after = domain.evolve(city, removed)
        assert (after.stakeholders, after.version) == ((UGR, third), city.version + 1)
        assert after.stakeholder(PTS.stakeholder_id) is None

    def test_removing_a_stakeholder_not_held_changes_only_the_version(self) -> None:
        city = a_city(stakeholders=(UGR,))
        removed = StakeholderRemoved(city_id=CITY_ID, stakeholder_id="nobody")
        assert domain.evolve(city, removed) == replace(city, version=city.version + 1)


class TestClusters:
    def test_a_joined_cluster_comes_after_those_held(self) -> None:
        city = domain.evolve(a_city(), ClusterJoined(city_id=CITY_ID, cluster="Circular Economy"))
        assert (city.clusters, city.version) == (("Smart City", "Circular Economy"), 2)

    def test_a_left_cluster_is_gone_and_the_others_keep_their_order(self) -> None:
        city = a_city(clusters=("Smart City", "Circular Economy", "Health"))
        after = domain.evolve(city, ClusterLeft(city_id=CITY_ID, cluster="Circular Economy"))
        assert (after.clusters, after.version) == (("Smart City", "Health"), 2)

    def test_leaving_a_cluster_not_held_changes_only_the_version(self) -> None:
        city = a_city()
        left = ClusterLeft(city_id=CITY_ID, cluster="Health")
        assert domain.evolve(city, left) == replace(city, version=2)


class TestFold:
    def test_no_events_is_no_city(self) -> None:
        assert domain.fold([]) is None

    def test_each_event_counts_as_one_version(self) -> None:
        events: list[CityEvent] = [
            registered(),
            StakeholderAdded(city_id=CITY_ID, stakeholder=UGR),
            ClusterJoined(city_id=CITY_ID, cluster="Health"),
            updated(name="Granada (city)"),
            ClusterLeft(city_id=CITY_ID, cluster="Smart City"),
            StakeholderRemoved(city_id=CITY_ID, stakeholder_id=UGR.stakeholder_id),
        ]
        city = domain.fold(events)
        assert city is not None
        assert (city.version, city.name, city.clusters, city.stakeholders) == (
            6,
            "Granada (city)",
            ("Health",),
            (),
        )

    def test_a_city_kept_as_a_snapshot_reads_back_equal(self) -> None:
        city = a_city(stakeholders=(UGR, stakeholder("pts", website="https://ptsgranada.com/")))
        assert CITIES.validate_json(CITIES.dump_json(city)) == city
