"""Example cities, stakeholders and organisations for the cities domain's unit tests."""

from collections.abc import Iterable

from ucap_cities import domain
from ucap_cities.domain import City, RegisterCity
from ucap_cities.events import (
    CityEvent,
    CityKind,
    CityRegistered,
    OrganisationRegistered,
    OrganisationScope,
    Population,
    StakeholderData,
    StakeholderKind,
    WorldRegion,
)

CITY_ID = "granada"
POPULATION = Population(known=True, value=236000, year=2018)


def stakeholder(
    stakeholder_id: str = "university-of-granada", **changes: object
) -> StakeholderData:
    fields: dict[str, object] = {
        "stakeholder_id": stakeholder_id,
        "name": stakeholder_id.replace("-", " ").title(),
        "kind": StakeholderKind.UNIVERSITY,
        "website": None,
    }
    return StakeholderData.model_validate({**fields, **changes})


def register(
    *,
    clusters: Iterable[str] = ("Smart City",),
    stakeholders: Iterable[StakeholderData] = (),
    kind: CityKind = CityKind.CITY,
) -> RegisterCity:
    """The command registering Granada, with the clusters and stakeholders given."""
    return RegisterCity(
        city_id=CITY_ID,
        name="Granada",
        native_name="Granada",
        region="Andalusia",
        country="ES",
        world_region=WorldRegion.EUROPE,
        population=POPULATION,
        area_km2=88.0,
        clusters=tuple(clusters),
        stakeholders=tuple(stakeholders),
        kind=kind,
    )


def registered(**changes: object) -> CityRegistered:
    fields: dict[str, object] = {
        "city_id": CITY_ID,
        "name": "Granada",
        "native_name": "Granada",
        "region": "Andalusia",
        "country": "ES",
        "world_region": "Europe",
        "population": POPULATION,
        "area_km2": 88.0,
        "clusters": ["Smart City"],
    }
    return CityRegistered.model_validate({**fields, **changes})


def a_city(
    *, clusters: Iterable[str] = ("Smart City",), stakeholders: Iterable[StakeholderData] = ()
) -> City:
    """Granada as registered, with its clusters and stakeholders."""
    command = register(clusters=clusters, stakeholders=stakeholders)
    city = domain.fold(domain.register_city(None, command))
    assert city is not None
    return city


def applied(city: City | None, events: Iterable[CityEvent]) -> City:
    """The city after the events a command returned."""
    for event in events:
        city = domain.evolve(city, event)
    assert city is not None
    return city


def organisation_registered(**changes: object) -> OrganisationRegistered:
    fields: dict[str, object] = {
        "organisation_id": "china-center-for-urban-development",
        "name": "China Center for Urban Development",
        "native_name": "中国城市和小城镇改革发展中心",
        "kind": StakeholderKind.OTHER,
        "scope": OrganisationScope.NATIONAL,
        "country": "CN",
        "website": "https://www.ccud.org.cn/",
    }
    return OrganisationRegistered.model_validate({**fields, **changes})
