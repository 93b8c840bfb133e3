"""The compiled status laid out as an IUC U-CAP summary, for Markdown and HTML alike.

The templates only lay out what this module has put into words: dates as they
were given ("July 2018"), populations with their "N/A", SDGs with their names.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ucap_gateway.compose import CompiledStatus, Details
from ucap_gateway.reported import (
    Activity,
    Award,
    City,
    Figures,
    Flags,
    Freshness,
    Pilot,
    ReportedStatus,
    Ucap,
)

Document = dict[str, Any]
EN_DASH = "–"

SDG_NAMES = {
    1: "No Poverty",
    2: "Zero Hunger",
    3: "Good Health and Well-Being",
    4: "Quality Education",
    5: "Gender Equality",
    6: "Clean Water and Sanitation",
    7: "Affordable and Clean Energy",
    8: "Decent Work and Economic Growth",
    9: "Industry, Innovation and Infrastructure",
    10: "Reduced Inequalities",
    11: "Sustainable Cities and Communities",
    12: "Responsible Consumption and Production",
    13: "Climate Action",
    14: "Life Below Water",
    15: "Life on Land",
    16: "Peace, Justice and Strong Institutions",
    17: "Partnerships for the Goals",
}
ORDINALS = [
    "",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
]


def as_given(value: str | None) -> str:
    """``2018-07`` -> ``July 2018``; ``2020`` stays; ``2018-09-03`` -> ``3 September 2018``."""
    if not value:
        return ""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{parts[2]} {month} {parts[0]}"


def population(profile: City) -> str:
    known = profile.population
    if known is None or not known.known or known.value is None:
        return "N/A"
    figure = f"{known.value:,}".replace(",", " ")
    return f"{figure} ({known.year})" if known.year else figure


def area(profile: City) -> str:
    return "N/A" if profile.area_km2 is None else f"{profile.area_km2:g} km²"


@dataclass
class Row:
    label: str
    lead: str
    counterparts: str


@dataclass
class PilotLine:
    pilot_id: str
    title: str
    description: str
    status: str
    iati: str
    last_update: str
    milestones: list[str]
    funding: list[str]
    flags: list[str]


@dataclass
class PilotGroup:
    city: str
    pilots: list[PilotLine] = field(default_factory=list)
    mous: list[str] = field(default_factory=list)


@dataclass
class Summary:
    title: str
    header: list[Row]
    themes: list[tuple[str, str]]
    goals: list[str]
    challenges: list[str]
    objectives: list[str]
    timeline: list[tuple[str, str]]
    expected_results: str
    groups: list[PilotGroup]
    figures: list[tuple[str, str]]
    flags: list[str]
    freshness: list[tuple[str, str]]
    unavailable: list[str]
    deliverables: list[str]
    contact: str
    as_of: str


def summarise(compiled: CompiledStatus) -> Summary:
    status = compiled.status
    ucap = status.ucap
    return Summary(
        title=ucap.title or compiled.ucap_id,
        header=header(status),
        themes=[(theme.title, theme.key_focus or "") for theme in ucap.themes],
        goals=goals(ucap),
        challenges=list(ucap.key_challenges),
        objectives=list(ucap.main_objectives),
        timeline=timeline(ucap),
        expected_results=ucap.expected_results or "",
        groups=groups(status, compiled.details),
        figures=figures(status.figures),
        flags=flags(status.flags),
        freshness=freshness(status.freshness),
        unavailable=[
            f"{name}: {part.reason}" for name, part in compiled.parts.items() if not part.available
        ],
        deliverables=[
            f"{as_given(d.date)}: {d.title} ({d.kind.replace('_', ' ')})" for d in ucap.deliverables
        ],
        contact=ucap.contact or "",
        as_of=compiled.as_of.isoformat() if compiled.as_of else "now",
    )


# --- the sections -------------------------------------------------------------


def header(status: ReportedStatus) -> list[Row]:
    """The summary's first table: the lead city beside its counterparts."""
    lead = status.lead_city
    profiles = [counterpart.city for counterpart in status.counterparts]
    period = status.ucap.period or {}
    return [
        Row("City", lead.name or lead.city_id, _names(p.name for p in profiles)),
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


def goals(ucap: Ucap) -> list[str]:
    named = [f"SDG {n}: {SDG_NAMES.get(n, '')}" for n in ucap.sdgs]
    return named + [f"EU Urban Agenda Theme: {theme}" for theme in ucap.urban_agenda_themes]


def timeline(ucap: Ucap) -> list[tuple[str, str]]:
    return [(as_given(activity.date), _activity(activity)) for activity in ucap.activities]


def _activity(activity: Activity) -> str:
    ordinal = activity.ordinal
    numbered = (
        f"{ORDINALS[ordinal]} {activity.kind.replace('_', ' ')}"
        if ordinal and ordinal < len(ORDINALS)
        else ""
    )
    parts = (numbered, activity.title, activity.outcome or "")
    return f" {EN_DASH} ".join(part for part in parts if part)


def groups(status: ReportedStatus, details: Details) -> list[PilotGroup]:
    """The pilots and MoUs under each counterpart city; first, those of no one city."""
    found = [
        PilotGroup(
            city=counterpart.city.name or counterpart.city.city_id,
            pilots=[_pilot_line(p, details.pilots.get(p.pilot_id)) for p in counterpart.pilots],
            mous=[
                f"{m.title or m.mou_id}: {m.status.replace('_', ' ')}"
                + (f", signed {as_given(m.signed_on)}" if m.signed_on else "")
                for m in counterpart.mous
            ],
        )
        for counterpart in status.counterparts
    ]
    if status.other_pilots:
        others = [_pilot_line(p, details.pilots.get(p.pilot_id)) for p in status.other_pilots]
        found.insert(0, PilotGroup(city="With all interested cities", pilots=others))
    return found


def _pilot_line(pilot: Pilot, detail: Document | None) -> PilotLine:
    update = pilot.last_update
    pilot_flags = []
    if pilot.milestone_counts.overdue:
        pilot_flags.append(f"{pilot.milestone_counts.overdue} milestone(s) overdue")
    if pilot.stale:
        pilot_flags.append("no update in 90 days")
    return PilotLine(
        pilot_id=pilot.pilot_id,
        title=pilot.title or pilot.pilot_id,
        description=(detail or {}).get("description", ""),
        status=pilot.status.replace("_", " "),
        iati=pilot.iati_status.name,
        last_update=(
            f"{as_given(update.reported_on)} ({update.reporting_city_id}): {update.summary}"
            if update
            else "none yet"
        ),
        milestones=[
            f"{m.title}: planned {as_given(m.planned_on)}, {m.state}"
            + (f" {as_given(m.completed_on)}" if m.completed_on else "")
            for m in pilot.milestones
        ],
        funding=[_award(award) for award in pilot.funding],
        flags=pilot_flags,
    )


def _award(award: Award) -> str:
    amount = f"{award.amount} {award.currency or ''}".strip() if award.amount else ""
    category = f"({award.category} category)" if award.category else ""
    parts = (award.funder, category, amount, as_given(award.awarded_on))
    return " ".join(part for part in parts if part)


def figures(counted: Figures) -> list[tuple[str, str]]:
    by_status = sorted(counted.pilots_by_status.items())
    per_year = sorted(counted.activities_per_year.items())
    milestones = counted.milestones
    lines = [
        ("Pilots", str(counted.pilots)),
        ("Pilots by status", ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in by_status)),
        ("MoUs signed", str(counted.mous_signed)),
        ("Activities per year", ", ".join(f"{k}: {v}" for k, v in per_year)),
        (
            "Milestones",
            f"{milestones.done} done, {milestones.due} due, {milestones.overdue} overdue",
        ),
    ]
    share = counted.share_pilots_updated_90_days
    if share is not None:
        lines.append(("Pilots updated in the last 90 days", f"{share:.0%}"))
    return lines


def flags(raised: Flags) -> list[str]:
    return [
        *(
            f"Overdue milestone: {m.title} ({m.pilot_id}), planned {as_given(m.planned_on)}"
            for m in raised.overdue_milestones
        ),
        *(f"No update in 90 days: {p.title or p.pilot_id}" for p in raised.stale_pilots),
        *(
            f"MoU expiring: {m.title or m.mou_id} on {as_given(m.valid_until)}"
            for m in raised.expiring_mous
        ),
    ]


def freshness(sources: list[Freshness]) -> list[tuple[str, str]]:
    return [
        (
            source.topic,
            (f"last event {source.last_event_time}" if source.last_event_time else "no event yet")
            + (f", lag {source.lag}" if source.lag is not None else ""),
        )
        for source in sources
    ]
