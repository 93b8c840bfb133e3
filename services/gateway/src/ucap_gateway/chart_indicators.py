"""Each pilot indicator's way from its baseline to its target, and where its latest value
stands on it; and the same as rows for the table beside the picture."""

from dataclasses import dataclass

from ucap_gateway.chart_svg import (
    BLUE,
    GREY,
    INK,
    PALE,
    element,
    picture,
    shortened,
    text,
    tooltip,
)
from ucap_gateway.reported import Indicator, ReportedStatus
from ucap_gateway.summary_text import figure, measure

WIDTH, LEFT, BAR, ROW = 760, 300, 330, 34
END = {"text_anchor": "end", "fill": INK}


@dataclass(frozen=True)
class Progress:
    pilot: str
    indicator: Indicator

    @property
    def share(self) -> float | None:
        """How far from baseline to target the latest value has come (0-1), if all are known."""
        found = self.indicator
        if found.baseline is None or found.target is None:
            return None
        start, goal = found.baseline.value, found.target.value
        now = found.latest.value if found.latest is not None else start
        if goal == start:
            return 1.0 if now == goal else 0.0
        return min(max((now - start) / (goal - start), 0.0), 1.0)

    def row(self) -> tuple[str, str, str, str, str, str]:
        unit = self.indicator.unit
        share = self.share
        return (
            self.pilot,
            self.indicator.name,
            measure(self.indicator.baseline, unit),
            measure(self.indicator.latest, unit),
            measure(self.indicator.target, unit),
            "–" if share is None else f"{share:.0%}",
        )


def progress(status: ReportedStatus) -> list[Progress]:
    seen: set[str] = set()
    found = []
    pilots = [*status.other_pilots, *(p for c in status.counterparts for p in c.pilots)]
    for pilot in pilots:
        if pilot.pilot_id in seen:
            continue
        seen.add(pilot.pilot_id)
        found += [Progress(pilot.title or pilot.pilot_id, i) for i in pilot.indicators]
    return found


def indicators_chart(found: list[Progress], chart_id: str = "indicators-chart") -> str:
    desc = (
        f"{len(found)} indicators, each a bar from its baseline (left) to its target (right), "
        "filled up to its latest value, with the share of the way written beside it. "
        "The table below gives every value."
    )
    body = []
    for index, item in enumerate(found):
        y = 10 + index * ROW
        share = item.share
        latest = item.indicator.latest
        said = "no baseline or target" if share is None else f"{share:.0%}"
        value = f" (latest {figure(latest.value)})" if latest is not None else ""
        filled = (
            element("rect", x=LEFT, y=y + 6, width=round(BAR * share, 1), height=14, fill=BLUE)
            if share
            else ""
        )
        body.append(
            element(
                "g",
                tooltip(f"{item.indicator.name}: {said}{value}")
                + text(LEFT - 8, y + 17, shortened(item.indicator.name, 44), **END)
                + element(
                    "rect",
                    x=LEFT,
                    y=y + 6,
                    width=BAR,
                    height=14,
                    fill=PALE,
                    stroke=GREY if share is None else BLUE,
                )
                + filled
                + text(LEFT + BAR + 8, y + 17, said, fill=INK),
            )
        )
    if not found:
        body.append(text(8, 26, "No pilot has an indicator yet.", fill=GREY))
    height = 20 + max(len(found), 1) * ROW
    return picture(
        chart_id,
        title="Indicator progress",
        desc=desc,
        width=WIDTH,
        height=height,
        body="".join(body),
    )
