"""The programme page: every U-CAP with its figures, flags and a link to its status."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ucap_gateway.chart_svg import bar_rows
from ucap_gateway.render import page
from ucap_gateway.summary_text import as_given, words

Document = dict[str, Any]

GROUPS = (
    ("by_cluster", "Cluster"),
    ("by_theme", "Theme"),
    ("by_sdg", "SDG"),
    ("by_country", "Country"),
)


@dataclass
class UcapLine:
    """One U-CAP as the programme page shows it."""

    ucap_id: str
    title: str
    lead: str
    pilots: str
    mous: str
    milestones: str
    updated: str
    flags: list[str]


def programme_etag(programme: Document) -> str:
    """Changes with the figures and flags, not with the consumers' clocks."""
    content = {k: v for k, v in programme.items() if k != "freshness"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


def _flags(flags: Document) -> list[str]:
    overdue = [
        f"Milestone overdue: {m['title']} ({m['pilot_id']}, planned {as_given(m['planned_on'])})"
        for m in flags.get("overdue_milestones", [])
    ]
    stale = [
        f"No update in 90 days: {p.get('title') or p['pilot_id']}"
        + (f" (last {as_given(p['last_update_on'])})" if p.get("last_update_on") else " (never)")
        for p in flags.get("stale_pilots", [])
    ]
    expiring = [
        f"MoU expiring {as_given(m['valid_until'])}: {m.get('title') or m['mou_id']}"
        for m in flags.get("expiring_mous", [])
    ]
    return overdue + stale + expiring


def ucap_lines(programme: Document) -> list[UcapLine]:
    lines = []
    for row in programme.get("ucaps", []):
        figures = row["figures"]
        by_status = ", ".join(
            f"{count} {status.replace('_', ' ')}"
            for status, count in figures["pilots_by_status"].items()
        )
        done, due, overdue = (figures["milestones"][k] for k in ("done", "due", "overdue"))
        share = figures.get("share_pilots_updated_90_days")
        lines.append(
            UcapLine(
                ucap_id=row["ucap_id"],
                title=row["title"],
                lead=row.get("lead_city_name") or row["lead_city_id"],
                pilots=f"{figures['pilots']}" + (f" ({by_status})" if by_status else ""),
                mous=f"{figures['mous_signed']} of {figures['mous']}",
                milestones=f"{done} done, {due} due, {overdue} overdue",
                updated="–" if share is None else f"{round(share * 100)} %",
                flags=_flags(row["flags"]),
            )
        )
    return lines


def pictures(programme: Document) -> Document:
    """The programme's pictures, each with the rows of the table that says the same."""
    totals = programme.get("totals", {})
    by_status = [(words(k), int(v)) for k, v in sorted(totals.get("pilots_by_status", {}).items())]
    per_ucap = [(row["title"], int(row["figures"]["pilots"])) for row in programme.get("ucaps", [])]
    return {
        "pilots_by_status": bar_rows(
            "programme-pilots-chart",
            by_status,
            title="Pilots by status, all U-CAPs",
            desc=f"{totals.get('pilots', 0)} pilots, one bar per status with its count. "
            "The table below gives the same counts.",
        ),
        "pilots_by_status_rows": by_status,
        "pilots_per_ucap": bar_rows(
            "programme-ucaps-chart",
            per_ucap,
            title="Pilots per U-CAP",
            desc="One bar per U-CAP with its number of pilots; the U-CAPs table gives them too.",
        ),
    }


def _context(programme: Document) -> Document:
    return {
        "p": programme,
        "ucaps": ucap_lines(programme),
        "groups": GROUPS,
        "pictures": pictures(programme),
    }


def programme_markdown(programme: Document) -> str:
    return page("programme.md.j2", **_context(programme))


def programme_html(programme: Document, *, live_url: str | None = None) -> str:
    etag = programme_etag(programme)
    return page("programme.html.j2", **_context(programme), live_url=live_url, etag=etag)
