"""The summary's pilots and MoUs, under each counterpart city: every fact each one holds."""

from dataclasses import dataclass, field
from typing import Any

from ucap_gateway.compose import Details
from ucap_gateway.reported import Award, Indicator, Mou, Party, Pilot, ReportedStatus, Signature
from ucap_gateway.summary_cities import city_names, stakeholder_names
from ucap_gateway.summary_text import ARROW, as_given, measure, sdg, words

Document = dict[str, Any]


@dataclass
class PilotLine:
    pilot_id: str
    title: str
    description: str
    status: str
    iati: str
    facts: list[str]
    """Cluster, themes, SDGs, partners with their roles, stakeholders: one line each."""
    indicators: list[str]
    last_update: str
    milestones: list[str]
    funding: list[str]
    flags: list[str]


@dataclass
class MouLine:
    mou_id: str
    title: str
    status: str
    facts: list[str]
    """Subject, themes, parties, validity."""
    signatures: list[str]


@dataclass
class PilotGroup:
    city: str
    pilots: list[PilotLine] = field(default_factory=list)
    mous: list[MouLine] = field(default_factory=list)


class Names:
    """The names the status knows, for the ids pilots and MoUs give."""

    def __init__(self, status: ReportedStatus) -> None:
        self.cities = city_names(status)
        self.organisations = stakeholder_names(status)

    def city(self, city_id: str | None) -> str:
        return self.cities.get(city_id or "", city_id or "")

    def organisation(self, organisation_id: str) -> str:
        return self.organisations.get(organisation_id, organisation_id)

    def party(self, party: Party) -> str:
        if party.name:
            name = party.name
        elif party.organisation_id:
            name = self.organisation(party.organisation_id)
        else:
            name = self.city(party.city_id)
        if party.city_id and party.organisation_id:
            name = f"{name} ({self.city(party.city_id)})"
        return name

    def signer(self, signature: Signature, parties: list[Party]) -> str:
        for party in parties:
            if (party.city_id, party.organisation_id) == (
                signature.city_id,
                signature.organisation_id,
            ):
                return self.party(party)
        return self.party(
            Party(city_id=signature.city_id, organisation_id=signature.organisation_id)
        )


def groups(status: ReportedStatus, details: Details) -> list[PilotGroup]:
    """The pilots and MoUs under each counterpart city; first, those of no one city."""
    names = Names(status)
    found = [
        PilotGroup(
            city=names.city(c.city.city_id),
            pilots=[pilot_line(p, details.pilots.get(p.pilot_id), names) for p in c.pilots],
            mous=[mou_line(m, names) for m in c.mous],
        )
        for c in status.counterparts
    ]
    if status.other_pilots:
        others = [pilot_line(p, details.pilots.get(p.pilot_id), names) for p in status.other_pilots]
        found.insert(0, PilotGroup(city="With all interested cities", pilots=others))
    return found


def mou_line(mou: Mou, names: Names) -> MouLine:
    facts = []
    if mou.subject:
        facts.append(f"Subject: {mou.subject}")
    if mou.themes:
        facts.append(f"Themes: {'; '.join(mou.themes)}")
    parties = [names.party(p) for p in mou.parties] or [
        names.city(city_id) for city_id in mou.party_city_ids
    ]
    if parties:
        facts.append(f"Parties: {'; '.join(parties)}")
    if mou.valid_from or mou.valid_until:
        facts.append(
            "Valid"
            + (f" from {as_given(mou.valid_from)}" if mou.valid_from else "")
            + (f" until {as_given(mou.valid_until)}" if mou.valid_until else "")
        )
    return MouLine(
        mou_id=mou.mou_id,
        title=mou.title or mou.mou_id,
        status=words(mou.status) + (f", signed {as_given(mou.signed_on)}" if mou.signed_on else ""),
        facts=facts,
        signatures=[_signature(s, names.signer(s, mou.parties)) for s in mou.signatures],
    )


def _signature(signature: Signature, signer: str) -> str:
    when = as_given(signature.signed_on) if signature.signed_on else "date unknown"
    parts = [f"{signer} signed, {when}"]
    if signature.place:
        parts.append(f"in {signature.place}")
    if signature.signatory:
        parts.append(f"by {signature.signatory}")
    if signature.occasion:
        parts.append(f"({signature.occasion})")
    return " ".join(parts)


def pilot_line(pilot: Pilot, detail: Document | None, names: Names) -> PilotLine:
    update = pilot.last_update
    pilot_flags = []
    if pilot.milestone_counts.overdue:
        pilot_flags.append(f"{pilot.milestone_counts.overdue} milestone(s) overdue")
    if pilot.stale:
        pilot_flags.append("no update in 90 days")
    return PilotLine(
        pilot_id=pilot.pilot_id,
        title=pilot.title or pilot.pilot_id,
        description=pilot.description or (detail or {}).get("description") or "",
        status=words(pilot.status),
        iati=pilot.iati_status.name,
        facts=_pilot_facts(pilot, names),
        indicators=[indicator_line(i) for i in pilot.indicators],
        last_update=(
            f"{as_given(update.reported_on)} ({names.city(update.reporting_city_id)}): "
            f"{update.summary}"
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


def _pilot_facts(pilot: Pilot, names: Names) -> list[str]:
    listed = [
        ("Cluster", [pilot.cluster] if pilot.cluster else []),
        ("Themes", pilot.themes),
        ("SDGs", [sdg(goal) for goal in pilot.sdg_goals]),
        ("SDG targets", pilot.sdg_targets),
        ("EU Urban Agenda themes", pilot.urban_agenda_themes),
        (
            "Partners",
            [
                f"{names.city(p.city_id)} ({words(p.role)})" if p.role else names.city(p.city_id)
                for p in pilot.partners
            ],
        ),
        ("Stakeholders", [names.organisation(s) for s in pilot.stakeholder_ids]),
    ]
    return [f"{label}: {'; '.join(values)}" for label, values in listed if values]


def indicator_line(indicator: Indicator) -> str:
    """``Visitors: 1 000 people (2018) → 1 400 people (2019) → 2 000 people (2020)``."""
    unit = indicator.unit
    steps = (
        f"baseline {measure(indicator.baseline, unit)}",
        f"latest {measure(indicator.latest, unit)}",
        f"target {measure(indicator.target, unit)}",
    )
    return f"{indicator.name}: {f' {ARROW} '.join(steps)}"


def _award(award: Award) -> str:
    amount = f"{award.amount} {award.currency or ''}".strip() if award.amount else ""
    category = f"({award.category} category)" if award.category else ""
    parts = (award.funder, category, amount, as_given(award.awarded_on))
    return " ".join(part for part in parts if part)
