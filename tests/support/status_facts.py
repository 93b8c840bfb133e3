"""The facts a compiled status holds, read off its JSON, and the text of the pages that
must show each of them.

The walk picks every name, title, native name, stakeholder, theme, SDG, partner,
party, signature, indicator figure ... of the status as reporting wrote it, in
words a reader would find on the page ("July 2018", "date unknown", "SDG 11").
"""

import calendar
import re
from html.parser import HTMLParser
from typing import Any

Document = dict[str, Any]
KIND_WORDS = {"city": ""}


def given(value: str | None) -> str:
    """A partial date as the summary says it: ``2018-07`` -> ``July 2018``."""
    if not value:
        return ""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{parts[2]} {month} {parts[0]}"


def figure(value: float) -> str:
    return f"{value:,.10g}".replace(",", " ")


def _words(code: str | None) -> str:
    return (code or "").replace("_", " ")


def _city_facts(city: Document) -> list[str]:
    found = [city.get("name") or city["city_id"], city.get("native_name"), city.get("region")]
    if city.get("kind", "city") != "city":
        found.append(_words(city["kind"]))
    for stakeholder in city.get("stakeholders", []):
        found += [stakeholder["name"], _words(stakeholder.get("kind")), stakeholder.get("website")]
    return [f for f in found if f]


def _mou_facts(mou: Document) -> list[str]:
    found = [mou.get("title") or mou["mou_id"], mou.get("subject"), *mou.get("themes", [])]
    found += [party["name"] for party in mou.get("parties", []) if party.get("name")]
    for signature in mou.get("signatures", []):
        found.append(
            given(signature["signed_on"]) if signature.get("signed_on") else "date unknown"
        )
        found += [signature.get("place"), signature.get("signatory"), signature.get("occasion")]
    return [f for f in found if f]


def _pilot_facts(pilot: Document, names: dict[str, str]) -> list[str]:
    found = [pilot.get("title") or pilot["pilot_id"], pilot.get("description")]
    found += pilot.get("themes", []) + pilot.get("sdg_targets", [])
    found += pilot.get("urban_agenda_themes", [])
    found += [f"SDG {goal}" for goal in pilot.get("sdg_goals", [])]
    for partner in pilot.get("partners", []):
        found += [names.get(partner["city_id"], partner["city_id"]), _words(partner.get("role"))]
    found += [names.get(s, s) for s in pilot.get("stakeholder_ids", [])]
    for indicator in pilot.get("indicators", []):
        found += [indicator["name"], indicator.get("unit")]
        for step in ("baseline", "latest", "target"):
            if indicator.get(step):
                found.append(figure(indicator[step]["value"]))
    for milestone in pilot.get("milestones", []):
        found += [milestone["title"], given(milestone["planned_on"])]
    found += [award["funder"] for award in pilot.get("funding", [])]
    if pilot.get("last_update"):
        found.append(pilot["last_update"]["summary"])
    return [f for f in found if f]


def _result_lines(written: str | None) -> list[str]:
    lines = [line.strip() for line in (written or "").splitlines() if line.strip()]
    return [line.removeprefix("- ").removesuffix(":") for line in lines]


def facts_of(status: Document) -> list[str]:
    """Every fact of reporting's status (the ``status`` of a compiled one), as page text."""
    ucap = status["ucap"]
    cities = [status["lead_city"], *(c["city"] for c in status["counterparts"])]
    names = {c["city_id"]: c.get("name") or c["city_id"] for c in cities}
    names |= {s["stakeholder_id"]: s["name"] for c in cities for s in c.get("stakeholders", [])}
    names |= {o["organisation_id"]: o["name"] for o in status.get("organisations", [])}
    found = [ucap["title"], given((ucap.get("period") or {}).get("from"))]
    for theme in ucap["themes"]:
        found += [theme["title"], theme.get("key_focus")]
    found += [f"SDG {n}" for n in ucap["sdgs"]] + list(ucap["urban_agenda_themes"])
    found += list(ucap["key_challenges"]) + list(ucap["main_objectives"])
    found += _result_lines(ucap.get("expected_results"))
    found += [ucap.get("contact")] + [d["title"] for d in ucap.get("deliverables", [])]
    for activity in ucap.get("activities", []):
        found += [activity["title"], activity.get("outcome")]
    for city in cities:
        found += _city_facts(city)
    for organisation in status.get("organisations", []):
        found += [organisation["name"], organisation.get("native_name")]
    pilots = list(status["other_pilots"])
    for counterpart in status["counterparts"]:
        pilots += counterpart["pilots"]
        for mou in counterpart["mous"]:
            found += _mou_facts(mou)
    for pilot in pilots:
        found += _pilot_facts(pilot, names)
    return sorted({_spaced(f) for f in found if f})


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


SKIPPED = frozenset({"script", "style", "svg"})
"""Not page text: a picture's words must also stand in the page's own text (its table)."""
BLOCKS = frozenset(
    {"p", "li", "ul", "td", "th", "tr", "h1", "h2", "h3", "h4", "caption", "figcaption", "br"}
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self._skipped += 1
        if tag in BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self._skipped -= 1
        if tag in BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipped:
            self.parts.append(data)


def html_text(page: str) -> str:
    """What a reader of the HTML page reads (no markup, scripts or styles), spaces folded."""
    parser = _Text()
    parser.feed(page)
    return _spaced("".join(parser.parts))


def markdown_text(page: str) -> str:
    return _spaced(page.replace("**", ""))


def missing(facts: list[str], text: str) -> list[str]:
    return [fact for fact in facts if fact not in text]
