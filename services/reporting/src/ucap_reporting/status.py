"""The consolidated U-CAP status, read from its ``ucap_status_view`` document.

What moves with the calendar (milestones overdue, pilots without an update in
90 days, MoUs expiring within 90 days, a MoU's status) is derived here, at
read time, from the dates the document stores, for the day asked about. The
status's shape is in ``status_models``; copies written before a field existed
read with that field's default.
"""

from collections import Counter
from datetime import date

from ucap_reporting.domain import Ucap
from ucap_reporting.events import ActivityStatus
from ucap_reporting.projections import held_sequences, relevant_mou, relevant_pilot
from ucap_reporting.projections.mous import parties_of
from ucap_reporting.status_models import (
    ACTIVE,
    IATI,
    AwardOut,
    Axis,
    CityProfile,
    CounterpartOut,
    ExpiringMou,
    Figures,
    Flags,
    IndicatorOut,
    MilestoneCounts,
    MilestoneOut,
    MilestoneState,
    MouOut,
    MouParty,
    MouStatus,
    Organisation,
    OverdueMilestone,
    PilotOut,
    Signature,
    StalePilot,
    UcapStatus,
)
from ucap_shared.consumer import TopicFreshness
from ucap_shared.dates import PartialDate, days_after, first_day_of_all, latest
from ucap_shared.views import Document

__all__ = [
    "Axis",
    "Figures",
    "Flags",
    "UcapStatus",
    "mou_out",
    "pilot_out",
    "status_of",
    "updated_within",
]

ATTENTION_DAYS = 90


def _profile(cities: dict[str, Document], city_id: str) -> CityProfile:
    city = cities.get(city_id) or {"city_id": city_id, "registered": False}
    fields = {name: city.get(name) for name in CityProfile.model_fields}
    fields["clusters"] = city.get("clusters") or []
    fields["registered"] = bool(city.get("registered"))
    fields["kind"] = city.get("kind") or "city"
    fields["stakeholders"] = city.get("stakeholders") or []
    fields["details_omitted"] = bool(city.get("details_omitted"))
    return CityProfile.model_validate(fields)


def _party_key(item: Document) -> tuple[str | None, str | None]:
    return item.get("city_id"), item.get("organisation_id")


def mou_out(
    mou: Document,
    today: date,
    names: dict[tuple[str | None, str | None], str] | None = None,
) -> MouOut:
    """The MoU on ``today``; ``names``: known names of parties, by (city, organisation)."""
    signatures = [Signature.model_validate(s) for s in mou["signatures"]]
    parties = parties_of(mou)
    signed_by = {(s.city_id, s.organisation_id) for s in signatures}
    all_signed = bool(parties) and {_party_key(p) for p in parties} <= signed_by
    dates = [s.signed_on for s in signatures if s.signed_on is not None]
    signed_on = latest(dates) if all_signed and len(dates) == len(signatures) else None
    valid_from = PartialDate.parse(mou["valid_from"]) if mou["valid_from"] else None
    valid_until = PartialDate.parse(mou["valid_until"]) if mou["valid_until"] else None
    if mou["terminated_on"]:
        status = MouStatus.TERMINATED
    elif mou["expired_on"] or (valid_until is not None and valid_until.last_day < today):
        status = MouStatus.EXPIRED
    elif not all_signed:
        status = MouStatus.DRAFT
    else:
        # From its validity's start, or the first day every party had certainly signed on;
        # signed on an unknown date with no validity start: in force.
        start = valid_from.first_day if valid_from else None
        if start is None and signed_on is not None:
            start = first_day_of_all(dates)
        status = MouStatus.IN_FORCE if start is None or start <= today else MouStatus.SIGNED
    soon = (
        status in (MouStatus.IN_FORCE, MouStatus.SIGNED)
        and valid_until is not None
        and valid_until.last_day <= days_after(today, ATTENTION_DAYS)
    )
    names = names or {}
    return MouOut(
        mou_id=mou["mou_id"],
        title=mou["title"],
        subject=mou.get("subject") or "",
        themes=mou.get("themes") or [],
        parties=[
            MouParty(
                city_id=p.get("city_id"),
                organisation_id=p.get("organisation_id"),
                name=names.get(_party_key(p)),
                stakeholder_ids=p.get("stakeholder_ids") or [],
            )
            for p in parties
        ],
        party_city_ids=mou["party_city_ids"],
        status=status,
        signed_on=signed_on,
        signatures=signatures,
        valid_from=valid_from,
        valid_until=valid_until,
        terminated_on=mou["terminated_on"],
        expired_on=mou["expired_on"],
        expires_soon=soon,
        details_omitted=bool(mou.get("details_omitted")),
    )


def _indicators(pilot: Document) -> list[IndicatorOut]:
    latest = pilot.get("indicator_latest") or {}
    return [
        IndicatorOut.model_validate({**i, "latest": latest.get(i["indicator_id"])})
        for i in pilot.get("indicators") or []
    ]


def pilot_out(pilot: Document, today: date) -> PilotOut:
    milestones = []
    for m in sorted(pilot["milestones"], key=lambda m: (m["planned_on"], m["milestone_id"])):
        planned = PartialDate.parse(m["planned_on"])
        if m["completed_on"]:
            state = MilestoneState.DONE
        elif planned.last_day < today:
            state = MilestoneState.OVERDUE
        else:
            state = MilestoneState.DUE
        milestones.append(MilestoneOut.model_validate({**m, "state": state}))
    counts = Counter(m.state for m in milestones)
    update = pilot["last_update"]
    updated_recently = update is not None and PartialDate.parse(
        update["reported_on"]
    ).last_day >= days_after(today, -ATTENTION_DAYS)
    return PilotOut(
        pilot_id=pilot["pilot_id"],
        title=pilot["title"],
        lead_city_id=pilot["lead_city_id"],
        city_ids=pilot["city_ids"],
        cluster=pilot["cluster"],
        themes=pilot["themes"],
        sdg_goals=pilot["sdg_goals"],
        status=pilot["status"],
        status_on=pilot["status_on"],
        iati_status=IATI.get(pilot["status"], IATI["proposed"]),
        last_update=update,
        updates_count=pilot["updates_count"],
        stale=pilot["status"] in ACTIVE and not updated_recently,
        milestones=milestones,
        milestone_counts=MilestoneCounts(
            done=counts[MilestoneState.DONE],
            due=counts[MilestoneState.DUE],
            overdue=counts[MilestoneState.OVERDUE],
        ),
        funding=[AwardOut.model_validate(a) for a in pilot["funding"]],
        description=pilot.get("description"),
        partners=pilot.get("partners") or [],
        stakeholder_ids=pilot.get("stakeholder_ids") or [],
        sdg_targets=pilot.get("sdg_targets") or [],
        urban_agenda_themes=pilot.get("urban_agenda_themes") or [],
        indicators=_indicators(pilot),
        details_omitted=bool(pilot.get("details_omitted")),
    )


def updated_within(pilot: PilotOut, today: date) -> bool:
    update = pilot.last_update
    return update is not None and update.reported_on.last_day >= days_after(today, -ATTENTION_DAYS)


def _party_names(
    cities: dict[str, Document], organisations: dict[str, Document]
) -> dict[tuple[str | None, str | None], str]:
    names: dict[tuple[str | None, str | None], str] = {}
    for city_id, city in cities.items():
        if city.get("name"):
            names[city_id, None] = city["name"]
        for stakeholder in city.get("stakeholders") or []:
            names[city_id, stakeholder["stakeholder_id"]] = stakeholder["name"]
    for organisation_id, organisation in organisations.items():
        if organisation.get("name"):
            names[None, organisation_id] = organisation["name"]
    return names


def _organisations_referred(
    organisations: dict[str, Document], mous: list[MouOut], pilots: list[PilotOut]
) -> list[Organisation]:
    referred = {
        p.organisation_id for m in mous for p in m.parties if p.organisation_id and not p.city_id
    }
    referred |= {s for p in pilots for s in p.stakeholder_ids if s in organisations}
    known = [{"name": None, **organisations.get(o, {}), "organisation_id": o} for o in referred]
    return [
        Organisation.model_validate(o) for o in sorted(known, key=lambda o: o["organisation_id"])
    ]


def _figures(ucap: Ucap, mous: list[MouOut], pilots: list[PilotOut], today: date) -> Figures:
    milestones = [m for p in pilots for m in p.milestones]
    states = Counter(m.state for m in milestones)
    held = [a for a in ucap.activities if a.status is ActivityStatus.HELD]
    return Figures(
        pilots=len(pilots),
        pilots_by_status=dict(sorted(Counter(p.status for p in pilots).items())),
        mous=len(mous),
        mous_signed=sum(1 for m in mous if _all_signed(m)),
        activities_per_year=dict(sorted(Counter(str(a.date.year) for a in held).items())),
        activities_planned=sum(1 for a in ucap.activities if a.status is ActivityStatus.PLANNED),
        milestones=MilestoneCounts(
            done=states[MilestoneState.DONE],
            due=states[MilestoneState.DUE],
            overdue=states[MilestoneState.OVERDUE],
        ),
        share_pilots_updated_90_days=(
            round(sum(updated_within(p, today) for p in pilots) / len(pilots), 4)
            if pilots
            else None
        ),
    )


def _all_signed(mou: MouOut) -> bool:
    signed = {(s.city_id, s.organisation_id) for s in mou.signatures}
    return bool(mou.parties) and all((p.city_id, p.organisation_id) in signed for p in mou.parties)


def _flags(mous: list[MouOut], pilots: list[PilotOut]) -> Flags:
    return Flags(
        overdue_milestones=[
            OverdueMilestone(
                pilot_id=p.pilot_id,
                milestone_id=m.milestone_id,
                title=m.title,
                planned_on=m.planned_on,
            )
            for p in pilots
            for m in p.milestones
            if m.state is MilestoneState.OVERDUE
        ],
        stale_pilots=[
            StalePilot(
                pilot_id=p.pilot_id,
                title=p.title,
                last_update_on=p.last_update.reported_on if p.last_update else None,
            )
            for p in pilots
            if p.stale
        ],
        expiring_mous=[
            ExpiringMou(mou_id=m.mou_id, title=m.title, valid_until=m.valid_until)
            for m in mous
            if m.expires_soon and m.valid_until is not None
        ],
    )


def status_of(
    document: Document,
    today: date,
    freshness: list[TopicFreshness],
    axis: Axis = Axis.LIVE,
) -> UcapStatus | None:
    """The status from its document; None while the U-CAP itself is not known."""
    if document.get("ucap") is None:
        return None
    ucap = Ucap.model_validate(document["ucap"])
    cities = {city["city_id"]: city for city in document["cities"]}
    organisations = {o["organisation_id"]: o for o in document.get("organisations") or []}
    names = _party_names(cities, organisations)
    mous = [
        mou_out(mou, today, names)
        for mou in document["mous"]
        if relevant_mou(document["ucap"], mou)
    ]
    # Figures and flags count only the pilots shown: a pilot left out raises no flag.
    pilots = [
        pilot_out(pilot, today)
        for pilot in document["pilots"]
        if relevant_pilot(document["ucap"], pilot)
    ]
    counterparts = [
        CounterpartOut(
            city=_profile(cities, city_id),
            mous=[m for m in mous if city_id in m.party_city_ids],
            pilots=[p for p in pilots if city_id in p.city_ids],
        )
        for city_id in ucap.counterpart_city_ids
    ]
    grouped = {p.pilot_id for c in counterparts for p in c.pilots}
    return UcapStatus(
        ucap_id=ucap.ucap_id,
        on=today,
        axis=axis,
        ucap=ucap,
        lead_city=_profile(cities, ucap.lead_city_id),
        counterparts=counterparts,
        other_pilots=[p for p in pilots if p.pilot_id not in grouped],
        organisations=_organisations_referred(organisations, mous, pilots),
        figures=_figures(ucap, mous, pilots, today),
        flags=_flags(mous, pilots),
        freshness=freshness,
        applied=held_sequences(document),
    )
