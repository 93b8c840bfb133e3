"""The compiled status laid out as an IUC U-CAP summary, for Markdown and HTML alike.

The templates only lay out what this module (and its ``summary_*`` sections) has put
into words: dates as they were given ("July 2018", "9-15 June 2019" with an en dash), populations
with their "N/A", SDGs with their names, cities with their native names. The
pictures (``chart_*``) are drawn here too, each with the rows of its table.
"""

from dataclasses import dataclass, field

from ucap_gateway.chart_indicators import indicators_chart, progress
from ucap_gateway.chart_svg import bar_rows
from ucap_gateway.chart_timeline import marks, rows, timeline_chart
from ucap_gateway.compose import CompiledStatus
from ucap_gateway.reported import Activity, Figures, Flags, Freshness, ReportedStatus, Ucap
from ucap_gateway.summary_cities import (
    CitySection,
    Row,
    city_sections,
    header,
    organisation_line,
)
from ucap_gateway.summary_pilots import PilotGroup, groups
from ucap_gateway.summary_text import EN_DASH, ORDINALS, as_given, date_range, sdg, words

AXES = {
    "live": "Live status",
    "cooperation": "Status in the cooperation's own time (by the dates the facts carry)",
    "recorded": "Status as recorded (what the system knew by the end of that day)",
}


@dataclass
class ResultBlock:
    """A part of the expected results: its heading (if any), its paragraphs and its list."""

    heading: str = ""
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass
class Pictures:
    """The SVG of each picture (markup) and the rows of the table that says the same."""

    timeline: str
    timeline_rows: list[tuple[str, str, str, str]]
    pilots_by_status: str
    pilots_by_status_rows: list[tuple[str, int]]
    indicators: str
    indicator_rows: list[tuple[str, str, str, str, str, str]]


@dataclass
class Summary:
    title: str
    header: list[Row]
    cities: list[CitySection]
    organisations: list[str]
    themes: list[tuple[str, str]]
    goals: list[str]
    challenges: list[str]
    objectives: list[str]
    timeline: list[tuple[str, str]]
    expected_results: list[ResultBlock]
    groups: list[PilotGroup]
    figures: list[tuple[str, str]]
    flags: list[str]
    freshness: list[tuple[str, str]]
    unavailable: list[str]
    deliverables: list[str]
    contact: str
    as_of: str
    as_of_line: str
    pictures: Pictures


def summarise(compiled: CompiledStatus) -> Summary:
    status = compiled.status
    ucap = status.ucap
    as_of = compiled.as_of.isoformat() if compiled.as_of else "now"
    return Summary(
        title=ucap.title or compiled.ucap_id,
        header=header(status),
        cities=city_sections(status),
        organisations=[organisation_line(o) for o in status.organisations],
        themes=[(theme.title, theme.key_focus or "") for theme in ucap.themes],
        goals=goals(ucap),
        challenges=list(ucap.key_challenges),
        objectives=list(ucap.main_objectives),
        timeline=timeline(ucap),
        expected_results=expected_results(ucap.expected_results or ""),
        groups=groups(status, compiled.details),
        figures=figures(status.figures),
        flags=flags(status.flags),
        freshness=freshness(status.freshness),
        unavailable=[
            f"{name}: {part.reason}" for name, part in compiled.parts.items() if not part.available
        ],
        deliverables=[
            f"{as_given(d.date)}: {d.title} ({words(d.kind)})" for d in ucap.deliverables
        ],
        contact=ucap.contact or "",
        as_of=as_of,
        as_of_line=as_of_line(compiled),
        pictures=pictures(status),
    )


def as_of_line(compiled: CompiledStatus) -> str:
    """Which time axis and which day every part of the answer stands on."""
    if compiled.as_of is None:
        return f"{AXES['live']} as of now ({compiled.status.on})"
    axis = compiled.axis if compiled.axis in AXES else "cooperation"
    return f"{AXES[axis]}, as of {compiled.as_of.isoformat()}"


def pictures(status: ReportedStatus) -> Pictures:
    events = marks(status)
    by_status = [(words(k), v) for k, v in sorted(status.figures.pilots_by_status.items())]
    indicators = progress(status)
    return Pictures(
        timeline=timeline_chart(events, status.on),
        timeline_rows=rows(events),
        pilots_by_status=bar_rows(
            "pilots-chart",
            by_status,
            title="Pilots by status",
            desc=f"{status.figures.pilots} pilots, one bar per status with its count. "
            "The table below gives the same counts.",
        ),
        pilots_by_status_rows=by_status,
        indicators=indicators_chart(indicators),
        indicator_rows=[item.row() for item in indicators],
    )


def goals(ucap: Ucap) -> list[str]:
    return [sdg(n) for n in ucap.sdgs] + [
        f"EU Urban Agenda Theme: {theme}" for theme in ucap.urban_agenda_themes
    ]


def timeline(ucap: Ucap) -> list[tuple[str, str]]:
    return [(date_range(a.date, a.end_date), _activity(a)) for a in ucap.activities]


def _activity(activity: Activity) -> str:
    ordinal = activity.ordinal
    numbered = (
        f"{ORDINALS[ordinal]} {words(activity.kind)}" if ordinal and ordinal < len(ORDINALS) else ""
    )
    parts = (numbered, activity.title, activity.outcome or "")
    said = f" {EN_DASH} ".join(part for part in parts if part)
    return said if activity.status == "held" else f"{said} ({words(activity.status)})"


def expected_results(written: str) -> list[ResultBlock]:
    """The expected results as written: a line ending with ":" heads a block, "- " lines
    are its list, other lines its paragraphs."""
    blocks = [ResultBlock()]
    for raw in written.splitlines():
        line = raw.strip()
        current = blocks[-1]
        if not line:
            continue
        if line.startswith(("- ", "* ", "→ ")):
            current.items.append(line[2:].strip())
        elif line.endswith(":"):
            if current.heading and not (current.items or current.paragraphs):
                # A heading with nothing under it introduced what follows: a paragraph.
                current.paragraphs.append(f"{current.heading}:")
                current.heading = ""
            if current.heading or current.items or current.paragraphs:
                blocks.append(ResultBlock())
            blocks[-1].heading = line[:-1].strip()
        else:
            current.paragraphs.append(line)
    return [b for b in blocks if b.heading or b.paragraphs or b.items]


def figures(counted: Figures) -> list[tuple[str, str]]:
    by_status = sorted(counted.pilots_by_status.items())
    per_year = sorted(counted.activities_per_year.items())
    milestones = counted.milestones
    lines = [
        ("Pilots", str(counted.pilots)),
        ("Pilots by status", ", ".join(f"{words(k)}: {v}" for k, v in by_status)),
        (
            "MoUs signed",
            f"{counted.mous_signed} of {counted.mous}"
            if counted.mous is not None
            else str(counted.mous_signed),
        ),
        ("Activities held per year", ", ".join(f"{k}: {v}" for k, v in per_year) or "none"),
        ("Activities planned", str(counted.activities_planned)),
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
