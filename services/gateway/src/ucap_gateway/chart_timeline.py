"""The cooperation's timeline: activities, MoU signatures and pilot milestones, planned and
done, on one time axis; and the same events as rows for the table beside it."""

import calendar
from dataclasses import dataclass
from datetime import date

from ucap_gateway.chart_svg import BLUE, GREY, INK, PALE, RED, element, picture, text, tooltip
from ucap_gateway.reported import Mou, Pilot, ReportedStatus
from ucap_gateway.summary_pilots import Names
from ucap_gateway.summary_text import as_given, date_range, words

LANES = ("Activities", "MoU signatures", "Milestones")
DONE = frozenset({"held", "done", "signed"})
WIDTH, LEFT, RIGHT, LANE_HEIGHT, TOP = 760, 130, 20, 44, 28


@dataclass(frozen=True)
class Mark:
    """One event: when (a partial date, perhaps a range), on which lane, what, in which state."""

    lane: str
    start: str | None
    end: str | None
    label: str
    state: str

    @property
    def when(self) -> str:
        return date_range(self.start, self.end) if self.start else "date unknown"


def first_day(partial: str) -> date:
    parts = [int(p) for p in partial.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def last_day(partial: str) -> date:
    parts = [int(p) for p in partial.split("-")]
    if len(parts) == 3:
        return date(*parts)
    month = parts[1] if len(parts) > 1 else 12
    return date(parts[0], month, calendar.monthrange(parts[0], month)[1])


def _mous(status: ReportedStatus) -> list[Mou]:
    seen: dict[str, Mou] = {}
    for counterpart in status.counterparts:
        for mou in counterpart.mous:
            seen.setdefault(mou.mou_id, mou)
    return list(seen.values())


def _pilots(status: ReportedStatus) -> list[Pilot]:
    seen: dict[str, Pilot] = {p.pilot_id: p for p in status.other_pilots}
    for counterpart in status.counterparts:
        for pilot in counterpart.pilots:
            seen.setdefault(pilot.pilot_id, pilot)
    return list(seen.values())


def marks(status: ReportedStatus) -> list[Mark]:
    """Every dated event of the cooperation (signatures of unknown date too), by date."""
    names = Names(status)
    found = [
        Mark("Activities", a.date, a.end_date, a.title, a.status) for a in status.ucap.activities
    ]
    for mou in _mous(status):
        for signature in mou.signatures:
            signer = names.signer(signature, mou.parties)
            label = f"{mou.title or mou.mou_id}: {signer}"
            found.append(Mark("MoU signatures", signature.signed_on, None, label, "signed"))
    for pilot in _pilots(status):
        for milestone in pilot.milestones:
            when = milestone.completed_on or milestone.planned_on
            label = f"{pilot.title or pilot.pilot_id}: {milestone.title}"
            found.append(Mark("Milestones", when, None, label, milestone.state))
    return sorted(found, key=lambda m: (m.start is None, m.start or "", LANES.index(m.lane)))


def rows(found: list[Mark]) -> list[tuple[str, str, str, str]]:
    """The table beside the picture: when, what kind, what, state."""
    return [(m.when, m.lane, m.label, words(m.state)) for m in found]


def _symbol(x: float, y: float, state: str) -> str:
    if state in DONE:
        return element("circle", cx=x, cy=y, r=6, fill=BLUE, stroke=BLUE)
    if state == "overdue":
        points = f"{x},{y - 7} {x + 7},{y} {x},{y + 7} {x - 7},{y}"
        return element("polygon", points=points, fill="#ffffff", stroke=RED, stroke_width=2)
    if state == "cancelled":
        return element(
            "path",
            d=f"M{x - 5},{y - 5} L{x + 5},{y + 5} M{x - 5},{y + 5} L{x + 5},{y - 5}",
            stroke=GREY,
            stroke_width=2,
        )
    dash = "3 2" if state == "postponed" else "none"
    colour = GREY if state == "postponed" else BLUE
    return element(
        "circle",
        cx=x,
        cy=y,
        r=6,
        fill="#ffffff",
        stroke=colour,
        stroke_width=2,
        stroke_dasharray=dash,
    )


def _legend(y: float) -> str:
    items = [
        ("held", "held, done or signed"),
        ("planned", "planned or due"),
        ("overdue", "overdue"),
        ("postponed", "postponed"),
        ("cancelled", "cancelled"),
    ]
    parts, x = [], LEFT
    for state, label in items:
        parts.append(_symbol(x, y, state) + text(x + 10, y + 4, label, fill=INK))
        x += 20 + 7 * len(label)
    return "".join(parts)


def timeline_chart(found: list[Mark], on: str, chart_id: str = "timeline-chart") -> str:
    """The picture; ``on``, the status's day, is drawn as a dashed line."""
    dated = [m for m in found if m.start]
    undated = len(found) - len(dated)
    desc = (
        f"{len(dated)} dated events on one time axis, in lanes for activities, MoU "
        f"signatures and milestones; filled marks happened, hollow ones are planned."
        + (f" {undated} signature(s) of unknown date: in the table only." if undated else "")
        + f" A dashed line marks {as_given(on)}, the day of this status."
        + " The table below lists every event."
    )
    height = TOP + len(LANES) * LANE_HEIGHT + 56
    if not dated:
        nothing = text(LEFT, TOP + 20, "No dated event yet.", fill=GREY)
        return picture(
            chart_id,
            title="Cooperation timeline",
            desc=desc,
            width=WIDTH,
            height=height,
            body=nothing,
        )
    begin = min(first_day(m.start) for m in dated if m.start)
    finish = max(last_day(m.end or m.start) for m in dated if m.start)
    day = date.fromisoformat(on)
    begin, finish = min(begin, day), max(finish, day)
    begin, finish = date(begin.year, 1, 1), date(finish.year, 12, 31)
    span = (finish - begin).days or 1
    scale = (WIDTH - LEFT - RIGHT) / span

    def x_of(day: date) -> float:
        return round(LEFT + (day - begin).days * scale, 1)

    axis_y = TOP + len(LANES) * LANE_HEIGHT
    body = [element("line", x1=LEFT, y1=axis_y, x2=WIDTH - RIGHT, y2=axis_y, stroke=INK)]
    for year in range(begin.year, finish.year + 1):
        x = x_of(date(year, 1, 1))
        body.append(element("line", x1=x, y1=TOP - 6, x2=x, y2=axis_y + 5, stroke=PALE))
        body.append(text(x + 4, axis_y + 18, str(year), fill=INK))
    for index, lane in enumerate(LANES):
        y = TOP + index * LANE_HEIGHT + LANE_HEIGHT / 2
        body.append(text(LEFT - 10, y + 4, lane, text_anchor="end", fill=INK))
        body.append(
            element("line", x1=LEFT, y1=y, x2=WIDTH - RIGHT, y2=y, stroke=PALE, stroke_width=1)
        )
    today = x_of(day)
    body.append(
        element(
            "line",
            x1=today,
            y1=TOP - 12,
            x2=today,
            y2=axis_y,
            stroke=INK,
            stroke_dasharray="4 3",
        )
        + text(today + 4, TOP - 4, f"on {as_given(on)}", fill=INK)
    )
    for mark in dated:
        assert mark.start is not None
        y = TOP + LANES.index(mark.lane) * LANE_HEIGHT + LANE_HEIGHT / 2
        x = x_of(first_day(mark.start))
        span_mark = ""
        if mark.end:
            width = max(x_of(last_day(mark.end)) - x, 2.0)
            span_mark = element("rect", x=x, y=y - 3, width=width, height=6, fill=PALE, stroke=BLUE)
        body.append(
            element(
                "g",
                tooltip(f"{mark.when}: {mark.label} ({words(mark.state)})")
                + span_mark
                + _symbol(x, y, mark.state),
                class_=f"mark {mark.state}",
            )
        )
    body.append(_legend(axis_y + 40))
    return picture(
        chart_id,
        title="Cooperation timeline",
        desc=desc,
        width=WIDTH,
        height=height,
        body="".join(body),
    )
