"""The consolidated U-CAP status, read from its ``ucap_status_view`` document.

What moves with the calendar (milestones overdue, pilots without an update in
90 days, MoUs expiring within 90 days, a MoU's status) is derived here, at
read time, from the dates the document stores, for the day asked about.
"""

from collections import Counter
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from ucap_reporting.domain import Ucap
from ucap_reporting.projections import relevant_mou, relevant_pilot
from ucap_shared.consumer import TopicFreshness
from ucap_shared.dates import PartialDate, days_after
from ucap_shared.views import APPLIED, Document

ATTENTION_DAYS = 90


class IatiStatus(BaseModel):
    """IATI activity status code list."""

    code: int = Field(
        description="1 pipeline, 2 implementation, 3 finalisation, 5 cancelled, 6 suspended"
    )
    name: str = Field(examples=["implementation"])


IATI = {
    "proposed": IatiStatus(code=1, name="pipeline"),
    "approved": IatiStatus(code=1, name="pipeline"),
    "in_progress": IatiStatus(code=2, name="implementation"),
    "completed": IatiStatus(code=3, name="finalisation"),
    "cancelled": IatiStatus(code=5, name="cancelled"),
    "on_hold": IatiStatus(code=6, name="suspended"),
}
ACTIVE = frozenset({"approved", "in_progress"})


class MouStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class Population(BaseModel):
    known: bool = Field(description="False where the summary says N/A")
    value: int | None = None
    year: int | None = None


class CityProfile(BaseModel):
    city_id: str = Field(examples=["kunming"])
    registered: bool = Field(description="False until the city's registration event has arrived")
    name: str | None = Field(examples=["Kunming"])
    native_name: str | None = Field(examples=["昆明"])
    region: str | None = Field(description="Province, state, department", examples=["Yunnan"])
    country: str | None = Field(examples=["CN"])
    world_region: str | None = Field(examples=["Asia"])
    population: Population | None
    area_km2: float | None
    clusters: list[str] = Field(description="Thematic clusters the city is a member of")


class Signature(BaseModel):
    city_id: str
    signed_on: PartialDate


class MouOut(BaseModel):
    """A MoU between the lead city and one or more counterparts."""

    mou_id: str = Field(examples=["granada-kunming-ciba-2018"])
    title: str | None
    party_city_ids: list[str]
    status: MouStatus = Field(description="On the status's day, from signatures and validity")
    signed_on: PartialDate | None = Field(description="Last party's signature, once all signed")
    signatures: list[Signature]
    valid_from: PartialDate | None
    valid_until: PartialDate | None
    terminated_on: PartialDate | None
    expired_on: PartialDate | None
    expires_soon: bool = Field(
        description="In force or signed, and its validity ends within 90 days"
    )


class MilestoneState(StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"


class MilestoneOut(BaseModel):
    milestone_id: str
    title: str
    planned_on: PartialDate
    completed_on: PartialDate | None
    state: MilestoneState = Field(description="Overdue: not done and its planned date has passed")


class MilestoneCounts(BaseModel):
    done: int
    due: int
    overdue: int


class AwardOut(BaseModel):
    award_id: str
    funder: str = Field(examples=["IUC competitive fund"])
    category: str | None = Field(examples=["gold"])
    amount: str | None = Field(description="Decimal as a string", examples=["20000.00"])
    currency: str | None = Field(examples=["EUR"])
    awarded_on: PartialDate


class ProgressOut(BaseModel):
    update_id: str
    reported_on: PartialDate
    reporting_city_id: str
    summary: str


class PilotOut(BaseModel):
    pilot_id: str = Field(examples=["granada-blocklab"])
    title: str | None
    lead_city_id: str | None
    city_ids: list[str] = Field(description="Lead and partner cities")
    cluster: str | None
    themes: list[str]
    sdg_goals: list[int]
    status: str = Field(
        description="proposed, approved, in_progress, on_hold, completed or cancelled"
    )
    status_on: PartialDate | None = Field(description="When it took its status, if known")
    iati_status: IatiStatus
    last_update: ProgressOut | None = Field(description="The latest progress update by date")
    updates_count: int
    stale: bool = Field(description="Approved or in progress, and no update in the last 90 days")
    milestones: list[MilestoneOut]
    milestone_counts: MilestoneCounts
    funding: list[AwardOut]


class CounterpartOut(BaseModel):
    """One counterpart city: its profile, its MoUs with the lead city, the pilots it is in."""

    city: CityProfile
    mous: list[MouOut]
    pilots: list[PilotOut]


class OverdueMilestone(BaseModel):
    pilot_id: str
    milestone_id: str
    title: str
    planned_on: PartialDate


class StalePilot(BaseModel):
    pilot_id: str
    title: str | None
    last_update_on: PartialDate | None = Field(description="Null: never updated")


class ExpiringMou(BaseModel):
    mou_id: str
    title: str | None
    valid_until: PartialDate


class Flags(BaseModel):
    """What needs attention on the status's day."""

    overdue_milestones: list[OverdueMilestone]
    stale_pilots: list[StalePilot]
    expiring_mous: list[ExpiringMou]


class Figures(BaseModel):
    pilots: int
    pilots_by_status: dict[str, int] = Field(examples=[{"in_progress": 2, "proposed": 1}])
    mous: int
    mous_signed: int = Field(description="MoUs signed by all parties (whatever their status now)")
    activities_per_year: dict[str, int] = Field(examples=[{"2018": 3, "2019": 4, "2020": 4}])
    milestones: MilestoneCounts
    share_pilots_updated_90_days: float | None = Field(
        description="Share (0-1) of pilots with an update in the last 90 days; null: no pilots"
    )


class UcapStatus(BaseModel):
    """The consolidated status of one U-CAP, as it stands on ``on``."""

    ucap_id: str = Field(examples=["granada-ucap"])
    on: date = Field(description="The day time-relative figures are computed for")
    ucap: Ucap = Field(
        description="The U-CAP itself: header, themes, goals, challenges, objectives, "
        "timeline, delivery and deliverables"
    )
    lead_city: CityProfile
    counterparts: list[CounterpartOut] = Field(description="In the U-CAP's counterpart order")
    other_pilots: list[PilotOut] = Field(
        description="Pilots of this U-CAP that no counterpart city takes part in"
    )
    figures: Figures
    flags: Flags
    freshness: list[TopicFreshness] = Field(
        description="Per source topic: last applied event time and consumer lag"
    )
    applied: dict[str, int] = Field(
        default_factory=dict,
        description="Per source stream (`pilot:<id>`, `city:<id>`, `mou:<id>`, `ucap:<id>`), "
        "the last sequence this status holds: whether it holds a given event",
        examples=[{"ucap:granada-ucap": 14, "pilot:granada-blocklab": 3}],
    )


# --- derivation -------------------------------------------------------------


def _profile(cities: dict[str, Document], city_id: str) -> CityProfile:
    city = cities.get(city_id) or {"city_id": city_id, "registered": False}
    fields = {name: city.get(name) for name in CityProfile.model_fields}
    fields["clusters"] = city.get("clusters") or []
    fields["registered"] = bool(city.get("registered"))
    return CityProfile.model_validate(fields)


def mou_out(mou: Document, today: date) -> MouOut:
    signatures = [Signature.model_validate(s) for s in mou["signatures"]]
    signed_by = {s.city_id for s in signatures}
    parties = mou["party_city_ids"]
    signed_on = (
        max(s.signed_on for s in signatures)
        if signatures and parties and set(parties) <= signed_by
        else None
    )
    valid_from = PartialDate.parse(mou["valid_from"]) if mou["valid_from"] else None
    valid_until = PartialDate.parse(mou["valid_until"]) if mou["valid_until"] else None
    if mou["terminated_on"]:
        status = MouStatus.TERMINATED
    elif mou["expired_on"] or (valid_until is not None and valid_until.last_day < today):
        status = MouStatus.EXPIRED
    elif signed_on is None:
        status = MouStatus.DRAFT
    else:
        in_force_from = (valid_from or signed_on).first_day
        status = MouStatus.IN_FORCE if in_force_from <= today else MouStatus.SIGNED
    soon = (
        status in (MouStatus.IN_FORCE, MouStatus.SIGNED)
        and valid_until is not None
        and valid_until.last_day <= days_after(today, ATTENTION_DAYS)
    )
    return MouOut(
        mou_id=mou["mou_id"],
        title=mou["title"],
        party_city_ids=parties,
        status=status,
        signed_on=signed_on,
        signatures=signatures,
        valid_from=valid_from,
        valid_until=valid_until,
        terminated_on=mou["terminated_on"],
        expired_on=mou["expired_on"],
        expires_soon=soon,
    )


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
    )


def updated_within(pilot: PilotOut, today: date) -> bool:
    update = pilot.last_update
    return update is not None and update.reported_on.last_day >= days_after(today, -ATTENTION_DAYS)


def status_of(
    document: Document, today: date, freshness: list[TopicFreshness]
) -> UcapStatus | None:
    """The status from its document; None while the U-CAP itself is not known."""
    if document.get("ucap") is None:
        return None
    ucap = Ucap.model_validate(document["ucap"])
    cities = {city["city_id"]: city for city in document["cities"]}
    mous = [mou_out(mou, today) for mou in document["mous"] if relevant_mou(document["ucap"], mou)]
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
    milestones = [m for p in pilots for m in p.milestones]
    states = Counter(m.state for m in milestones)
    figures = Figures(
        pilots=len(pilots),
        pilots_by_status=dict(sorted(Counter(p.status for p in pilots).items())),
        mous=len(mous),
        mous_signed=sum(1 for m in mous if m.signed_on is not None),
        activities_per_year=dict(
            sorted(Counter(str(a.date.year) for a in ucap.activities).items())
        ),
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
    flags = Flags(
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
    return UcapStatus(
        ucap_id=ucap.ucap_id,
        on=today,
        ucap=ucap,
        lead_city=_profile(cities, ucap.lead_city_id),
        counterparts=counterparts,
        other_pilots=[p for p in pilots if p.pilot_id not in grouped],
        figures=figures,
        flags=flags,
        freshness=freshness,
        applied=dict(document.get(APPLIED, {})),
    )
