"""The summary's cities: its first table (the lead city beside its counterparts), each
city's stakeholders, and the organisations of no one city."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from ucap_gateway.reported import City, Organisation, ReportedStatus
from ucap_gateway.summary_text import EN_DASH, as_given, city_name, words


@dataclass
class Row:
    label: str
    lead: str
    counterparts: str


@dataclass
class CitySection:
    """One city and the organisations it brings (its stakeholders)."""

    name: str
    role: str
    stakeholders: list[str] = field(default_factory=list)


def population(profile: City) -> str:
    known = profile.population
    if known is None or not known.known or known.value is None:
        return "N/A"
    figure = f"{known.value:,}".replace(",", " ")
    return f"{figure} ({known.year})" if known.year else figure


def area(profile: City) -> str:
    return "N/A" if profile.area_km2 is None else f"{profile.area_km2:g} km²"


def header(status: ReportedStatus) -> list[Row]:
    """The summary's first table: the lead city beside its counterparts."""
    lead = status.lead_city
    profiles = [counterpart.city for counterpart in status.counterparts]
    period = status.ucap.period or {}
    return [
        Row("City", city_name(lead), ", ".join(map(city_name, profiles)) or "N/A"),
        Row(
            "Province, State, Department...",
            lead.region or "N/A",
            _names(p.region for p in profiles),
        ),
        Row("Country", lead.country or "N/A", _names(p.country for p in profiles)),
        Row("Population", population(lead), ", ".join(map(population, profiles)) or "N/A"),
        Row("Size (km²)", area(lead), ", ".join(map(area, profiles)) or "N/A"),
        Row(
            "Period of cooperation",
            f" {EN_DASH} ".join(
                x for x in (as_given(period.get("from")), as_given(period.get("until"))) if x
            ),
            "",
        ),
    ]


def _names(values: Iterable[str | None]) -> str:
    return ", ".join(v for v in values if v) or "N/A"


def city_sections(status: ReportedStatus) -> list[CitySection]:
    profiles = [(status.lead_city, "lead city")] + [
        (counterpart.city, "counterpart") for counterpart in status.counterparts
    ]
    return [
        CitySection(
            name=city_name(profile),
            role=role,
            stakeholders=[
                ", ".join(
                    part
                    for part in (stakeholder.name, words(stakeholder.kind), stakeholder.website)
                    if part
                )
                for stakeholder in profile.stakeholders
            ],
        )
        for profile, role in profiles
    ]


def organisation_line(organisation: Organisation) -> str:
    name = organisation.name
    if organisation.native_name and organisation.native_name != name:
        name = f"{name} {organisation.native_name}"
    scope = words(organisation.scope)
    if organisation.country:
        scope = f"{scope}, {organisation.country}" if scope else organisation.country
    parts = (name, words(organisation.kind), scope, organisation.website)
    return ", ".join(part for part in parts if part)


def stakeholder_names(status: ReportedStatus) -> dict[str, str]:
    """Every organisation the status names, by id: the cities' and those of no one city."""
    profiles = [status.lead_city, *(c.city for c in status.counterparts)]
    named = {s.stakeholder_id: s.name for p in profiles for s in p.stakeholders}
    named |= {o.organisation_id: o.name for o in status.organisations}
    return named


def city_names(status: ReportedStatus) -> dict[str, str]:
    profiles = [status.lead_city, *(c.city for c in status.counterparts)]
    return {p.city_id: p.name or p.city_id for p in profiles}
