"""The compiled status laid out as an IUC U-CAP summary, for Markdown and HTML alike.

The templates only lay out what this module has put into words: dates as they
were given ("July 2018"), populations with their "N/A", SDGs with their names.
"""

import calendar
from dataclasses import dataclass, field
from typing import Any

from ucap_gateway.compose import CompiledStatus

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


def population(profile: Document | None) -> str:
    known = (profile or {}).get("population") or {}
    if not known.get("known") or known.get("value") is None:
        return "N/A"
    figure = f"{known['value']:,}".replace(",", " ")
    return f"{figure} ({known['year']})" if known.get("year") else figure


def area(profile: Document | None) -> str:
    value = (profile or {}).get("area_km2")
    return "N/A" if value is None else f"{value:g} km²"


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


def _names(profiles: list[Document], key: str) -> str:
    values = [str(p.get(key) or "") for p in profiles]
    return ", ".join(v for v in values if v) or "N/A"


def _pilot_line(pilot: Document, detail: Document | None) -> PilotLine:
    update = pilot.get("last_update")
    counts = pilot.get("milestone_counts") or {}
    flags = []
    if counts.get("overdue"):
        flags.append(f"{counts['overdue']} milestone(s) overdue")
    if pilot.get("stale"):
        flags.append("no update in 90 days")
    return PilotLine(
        pilot_id=pilot["pilot_id"],
        title=pilot.get("title") or pilot["pilot_id"],
        description=(detail or {}).get("description", ""),
        status=str(pilot.get("status", "")).replace("_", " "),
        iati=(pilot.get("iati_status") or {}).get("name", ""),
        last_update=(
            f"{as_given(update['reported_on'])} ({update['reporting_city_id']}): "
            f"{update['summary']}"
            if update
            else "none yet"
        ),
        milestones=[
            f"{m['title']}: planned {as_given(m['planned_on'])}, {m['state']}"
            + (f" {as_given(m['completed_on'])}" if m.get("completed_on") else "")
            for m in pilot.get("milestones", [])
        ],
        funding=[
            " ".join(
                part
                for part in (
                    a["funder"],
                    f"({a['category']} category)" if a.get("category") else "",
                    f"{a['amount']} {a.get('currency') or ''}".strip() if a.get("amount") else "",
                    as_given(a["awarded_on"]),
                )
                if part
            )
            for a in pilot.get("funding", [])
        ],
        flags=flags,
    )


def summarise(compiled: CompiledStatus) -> Summary:
    status = compiled.status
    ucap: Document = status.get("ucap", {})
    lead: Document = status.get("lead_city") or {}
    counterparts: list[Document] = status.get("counterparts", [])
    profiles = [c.get("city") or {} for c in counterparts]
    period = ucap.get("period") or {}
    details = compiled.details
    header = [
        Row("City", lead.get("name") or lead.get("city_id", ""), _names(profiles, "name")),
        Row(
            "Province, State, Department...",
            lead.get("region") or "N/A",
            _names(profiles, "region"),
        ),
        Row("Country", lead.get("country") or "N/A", _names(profiles, "country")),
        Row("Population", population(lead), ", ".join(population(p) for p in profiles) or "N/A"),
        Row("Size (km²)", area(lead), ", ".join(area(p) for p in profiles) or "N/A"),
        Row(
            "Period of cooperation",
            f" {EN_DASH} ".join(
                x for x in (as_given(period.get("from")), as_given(period.get("until"))) if x
            ),
            "",
        ),
    ]
    goals = [f"SDG {n}: {SDG_NAMES.get(n, '')}" for n in ucap.get("sdgs", [])]
    goals += [f"EU Urban Agenda Theme: {theme}" for theme in ucap.get("urban_agenda_themes", [])]
    timeline = [
        (
            as_given(activity["date"]),
            f" {EN_DASH} ".join(
                part
                for part in (
                    f"{ORDINALS[activity['ordinal']]} {activity['kind'].replace('_', ' ')}"
                    if activity.get("ordinal") and activity["ordinal"] < len(ORDINALS)
                    else "",
                    activity["title"],
                    activity.get("outcome") or "",
                )
                if part
            ),
        )
        for activity in ucap.get("activities", [])
    ]
    groups = []
    for counterpart in counterparts:
        city = counterpart.get("city") or {}
        group = PilotGroup(city=city.get("name") or city.get("city_id", ""))
        group.pilots = [
            _pilot_line(p, details.pilots.get(p["pilot_id"])) for p in counterpart.get("pilots", [])
        ]
        group.mous = [
            f"{m.get('title') or m['mou_id']}: {m['status'].replace('_', ' ')}"
            + (f", signed {as_given(m['signed_on'])}" if m.get("signed_on") else "")
            for m in counterpart.get("mous", [])
        ]
        groups.append(group)
    others = status.get("other_pilots", [])
    if others:
        groups.insert(
            0,
            PilotGroup(
                city="With all interested cities",
                pilots=[_pilot_line(p, details.pilots.get(p["pilot_id"])) for p in others],
            ),
        )
    figures_doc = status.get("figures") or {}
    figures = [
        ("Pilots", str(figures_doc.get("pilots", 0))),
        (
            "Pilots by status",
            ", ".join(
                f"{k.replace('_', ' ')}: {v}"
                for k, v in sorted((figures_doc.get("pilots_by_status") or {}).items())
            ),
        ),
        ("MoUs signed", str(figures_doc.get("mous_signed", 0))),
        (
            "Activities per year",
            ", ".join(
                f"{k}: {v}"
                for k, v in sorted((figures_doc.get("activities_per_year") or {}).items())
            ),
        ),
    ]
    milestones = figures_doc.get("milestones") or {}
    figures.append(
        (
            "Milestones",
            f"{milestones.get('done', 0)} done, {milestones.get('due', 0)} due, "
            f"{milestones.get('overdue', 0)} overdue",
        )
    )
    share = figures_doc.get("share_pilots_updated_90_days")
    if share is not None:
        figures.append(("Pilots updated in the last 90 days", f"{share:.0%}"))
    flags_doc = status.get("flags") or {}
    flags = [
        f"Overdue milestone: {m['title']} ({m['pilot_id']}), planned {as_given(m['planned_on'])}"
        for m in flags_doc.get("overdue_milestones", [])
    ]
    flags += [
        f"No update in 90 days: {p.get('title') or p['pilot_id']}"
        for p in flags_doc.get("stale_pilots", [])
    ]
    flags += [
        f"MoU expiring: {m.get('title') or m['mou_id']} on {as_given(m['valid_until'])}"
        for m in flags_doc.get("expiring_mous", [])
    ]
    freshness = [
        (
            f["topic"],
            (f"last event {f['last_event_time']}" if f.get("last_event_time") else "no event yet")
            + (f", lag {f['lag']}" if f.get("lag") is not None else ""),
        )
        for f in status.get("freshness", [])
    ]
    unavailable = [
        f"{name}: {part.reason}" for name, part in compiled.parts.items() if not part.available
    ]
    return Summary(
        title=ucap.get("title") or compiled.ucap_id,
        header=header,
        themes=[(t["title"], t.get("key_focus", "")) for t in ucap.get("themes", [])],
        goals=goals,
        challenges=list(ucap.get("key_challenges", [])),
        objectives=list(ucap.get("main_objectives", [])),
        timeline=timeline,
        expected_results=ucap.get("expected_results") or "",
        groups=groups,
        figures=figures,
        flags=flags,
        freshness=freshness,
        unavailable=unavailable,
        deliverables=[
            f"{as_given(d['date'])}: {d['title']} ({d['kind'].replace('_', ' ')})"
            for d in ucap.get("deliverables", [])
        ],
        contact=ucap.get("contact") or "",
        as_of=compiled.as_of.isoformat() if compiled.as_of else "now",
    )
