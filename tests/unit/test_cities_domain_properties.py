"""Properties of the city and organisation aggregates over generated inputs (Hypothesis)."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from tests.unit.cities_examples import (
    CITY_ID,
    a_city,
    applied,
    organisation_registered,
    register,
    stakeholder,
)
from ucap_cities import domain
from ucap_cities.domain import PROFILE_FIELDS, City
from ucap_cities.events import (
    CityEvent,
    CityKind,
    CityProfileUpdated,
    OrganisationRegistered,
    OrganisationScope,
    Population,
    StakeholderKind,
    WorldRegion,
)
from ucap_cities.organisations import domain as organisations
from ucap_cities.organisations.domain import Organisation
from ucap_shared.problems import ConflictError, NotFoundError

examples = settings(max_examples=30, deadline=None, database=None)
CITIES = TypeAdapter(City)
ORGANISATIONS = TypeAdapter(Organisation)

names = st.text(min_size=1, max_size=12)
populations = st.one_of(
    st.just(Population.unknown()),
    st.builds(
        Population,
        known=st.just(True),
        value=st.integers(min_value=0, max_value=40_000_000),
        year=st.integers(min_value=1000, max_value=2200),
    ),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "kind": st.sampled_from(CityKind),
    "name": names,
    "native_name": st.none() | names,
    "region": st.none() | names,
    "country": st.sampled_from(["ES", "CN", "GB", "PT"]),
    "world_region": st.sampled_from(WorldRegion),
    "population": populations,
    "area_km2": st.none() | st.floats(min_value=0.01, max_value=1e6, allow_nan=False),
}
assert set(VALUES) == set(PROFILE_FIELDS)


@st.composite
def profile_changes(
    draw: st.DrawFn, fields: st.SearchStrategy[list[str]] | None = None
) -> dict[str, Any]:
    """Some profile fields, each with a value it may take."""
    chosen = draw(
        fields if fields is not None else st.lists(st.sampled_from(PROFILE_FIELDS), unique=True)
    )
    return {name: draw(VALUES[name]) for name in chosen}


STAKEHOLDER_IDS = ("ugr", "pts-granada", "city-council")
CLUSTERS = ("Smart City", "Circular Economy", "Health")
steps = st.one_of(
    st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from(STAKEHOLDER_IDS)),
    st.tuples(st.sampled_from(["join", "leave"]), st.sampled_from(CLUSTERS)),
    st.tuples(st.just("update"), profile_changes()),
)


@dataclass
class Expected:
    """What a city's stakeholders and clusters should be, kept as plain lists."""

    stakeholders: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=lambda: ["Smart City"])

    def decide(self, city: City, step: tuple[str, Any]) -> list[CityEvent]:
        """The command of a step on the city; the lists follow it if it was accepted."""
        verb, argument = step
        if verb == "add":
            events: list[CityEvent] = [
                *domain.add_stakeholder(city, CITY_ID, stakeholder(argument))
            ]
            self.stakeholders.append(argument)
        elif verb == "remove":
            events = [*domain.remove_stakeholder(city, CITY_ID, argument)]
            self.stakeholders.remove(argument)
        elif verb == "join":
            events = [*domain.join_cluster(city, CITY_ID, argument)]
            self.clusters.append(argument)
        elif verb == "leave":
            events = [*domain.leave_cluster(city, CITY_ID, argument)]
            self.clusters.remove(argument)
        else:
            events = [*domain.update_profile(city, CITY_ID, argument)]
        return events

    def refuses(self, step: tuple[str, Any]) -> type[Exception] | None:
        verb, argument = step
        held = self.stakeholders if verb in ("add", "remove") else self.clusters
        if verb in ("add", "join") and argument in held:
            return ConflictError
        if verb in ("remove", "leave") and argument not in held:
            return NotFoundError
        return None


def walk(steps_taken: list[tuple[str, Any]]) -> tuple[City, list[CityEvent], Expected]:
    """Each step's command on the city its events so far leave; refused steps record nothing."""
    recorded: list[CityEvent] = [*domain.register_city(None, register())]
    city = applied(None, recorded)
    expected = Expected()
    for step in steps_taken:
        refusal = expected.refuses(step)
        if refusal is not None:
            with pytest.raises(refusal):
                expected.decide(city, step)
            continue
        events = expected.decide(city, step)
        city = applied(city, events)
        recorded.extend(events)
    return city, recorded, expected


class TestCommandWalks:
    @examples
    @given(st.lists(steps, max_size=10))
    def test_fold_of_the_events_equals_stepping_through_them(
        self, steps_taken: list[tuple[str, Any]]
    ) -> None:
        city, recorded, expected = walk(steps_taken)
        assert domain.fold(recorded) == city
        assert city.version == len(recorded)
        assert [s.stakeholder_id for s in city.stakeholders] == expected.stakeholders
        assert list(city.clusters) == expected.clusters

    @examples
    @given(st.lists(steps, max_size=10), st.data())
    def test_folding_on_from_a_snapshot_equals_folding_from_the_start(
        self, steps_taken: list[tuple[str, Any]], data: st.DataObject
    ) -> None:
        city, recorded, _ = walk(steps_taken)
        cut = data.draw(st.integers(min_value=1, max_value=len(recorded)))
        snapshot = CITIES.validate_json(CITIES.dump_json(applied(None, recorded[:cut])))
        assert applied(snapshot, recorded[cut:]) == city

    @examples
    @given(st.lists(steps, max_size=10))
    def test_the_events_as_the_store_keeps_them_fold_to_the_same_city(
        self, steps_taken: list[tuple[str, Any]]
    ) -> None:
        city, recorded, _ = walk(steps_taken)
        kept = [type(event).model_validate(event.model_dump(mode="json")) for event in recorded]
        assert domain.fold(kept) == city


class TestProfileUpdates:
    @examples
    @given(profile_changes())
    def test_the_city_takes_the_values_and_the_same_update_again_records_nothing(
        self, changes: dict[str, Any]
    ) -> None:
        city = applied(a_city(), domain.update_profile(a_city(), CITY_ID, changes))
        assert {name: getattr(city, name) for name in changes} == changes
        assert domain.update_profile(city, CITY_ID, changes) == []

    @examples
    @given(profile_changes())
    def test_only_the_fields_that_differ_are_recorded(self, changes: dict[str, Any]) -> None:
        city = a_city()
        events = domain.update_profile(city, CITY_ID, changes)
        differing = {name: v for name, v in changes.items() if getattr(city, name) != v}
        assert [event.changes() for event in events] == ([differing] if differing else [])

    @examples
    @given(profile_changes())
    def test_an_update_read_back_from_the_store_leaves_the_same_city(
        self, changes: dict[str, Any]
    ) -> None:
        city = a_city()
        for event in domain.update_profile(city, CITY_ID, changes):
            stored = CityProfileUpdated.model_validate(event.model_dump(mode="json"))
            assert domain.evolve(city, stored) == domain.evolve(city, event)

    @examples
    @given(
        st.lists(st.sampled_from(PROFILE_FIELDS), unique=True, min_size=2).flatmap(
            lambda fields: st.tuples(
                profile_changes(st.just(fields[: len(fields) // 2])),
                profile_changes(st.just(fields[len(fields) // 2 :])),
            )
        )
    )
    def test_updates_of_different_fields_leave_the_same_city_in_either_order(
        self, both: tuple[dict[str, Any], dict[str, Any]]
    ) -> None:
        first, second = (CityProfileUpdated(city_id=CITY_ID, **c) for c in both)
        assert applied(a_city(), [first, second]) == applied(a_city(), [second, first])

    @examples
    @given(profile_changes(), profile_changes())
    def test_of_two_updates_of_a_field_the_later_stands(
        self, earlier: dict[str, Any], later: dict[str, Any]
    ) -> None:
        events = [CityProfileUpdated(city_id=CITY_ID, **c) for c in (earlier, later)]
        city = applied(a_city(), events)
        assert {name: getattr(city, name) for name in later} == later
        for name in set(earlier) - set(later):
            assert getattr(city, name) == earlier[name]

    @examples
    @given(populations)
    def test_a_population_keeps_its_figure_and_year_through_a_snapshot(
        self, population: Population
    ) -> None:
        event = CityProfileUpdated(city_id=CITY_ID, population=population)
        stored = CityProfileUpdated.model_validate(event.model_dump(mode="json"))
        city = CITIES.validate_json(CITIES.dump_json(applied(a_city(), [stored])))
        assert (city.population.known, city.population.value, city.population.year) == (
            population.known,
            population.value,
            population.year,
        )


slugs = st.builds(
    "".join,
    st.tuples(st.sampled_from("abcxyz"), st.text(alphabet="abz09-", min_size=1, max_size=20)),
)


@st.composite
def organisations_registered(draw: st.DrawFn) -> OrganisationRegistered:
    scope = draw(st.sampled_from(OrganisationScope))
    return organisation_registered(
        organisation_id=draw(slugs),
        name=draw(names),
        native_name=draw(st.none() | names),
        kind=draw(st.sampled_from(StakeholderKind)),
        scope=scope,
        country=draw(st.sampled_from(["CN", "GB"]) | st.none())
        if scope is OrganisationScope.INTERNATIONAL
        else draw(st.sampled_from(["CN", "GB"])),
        website=draw(st.none() | st.just("https://example.org/")),
    )


class TestOrganisations:
    @examples
    @given(organisations_registered())
    def test_an_organisation_is_its_registration_and_reads_back_from_a_snapshot(
        self, registered: OrganisationRegistered
    ) -> None:
        [event] = organisations.register_organisation(None, registered)
        organisation = organisations.evolve(None, event)
        assert ORGANISATIONS.dump_python(organisation) == {**registered.model_dump(), "version": 1}
        assert ORGANISATIONS.validate_json(ORGANISATIONS.dump_json(organisation)) == organisation
