"""The consolidated U-CAP status's shape (contract B), as the gateway reads it."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from ucap_reporting.domain import Ucap
from ucap_shared import iati
from ucap_shared.consumer import TopicFreshness
from ucap_shared.dates import PartialDate


class Axis(StrEnum):
    LIVE = "live"
    COOPERATION = "cooperation"
    RECORDED = "recorded"


class Stakeholder(BaseModel):
    stakeholder_id: str
    name: str
    kind: str
    website: str | None = None


class IatiStatus(BaseModel):
    """IATI activity status code list."""

    code: int = Field(
        description="1 Pipeline/identification, 2 Implementation, 3 Finalisation, "
        "5 Cancelled, 6 Suspended"
    )
    name: str = Field(examples=["Implementation"])


IATI = {
    status: IatiStatus(code=code, name=name)
    for status in iati.CODE_OF_PILOT_STATUS
    for code, name in [iati.activity_status(status)]
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
    kind: str = Field(
        default="city",
        description="city, region, metropolitan_authority, combined_authority, district or "
        "new_area",
    )
    stakeholders: list[Stakeholder] = Field(
        default_factory=list, description="The city's organisations"
    )
    details_omitted: bool = Field(
        default=False, description="Its stakeholders left out: the copy passed its size bound"
    )


class Organisation(BaseModel):
    """An organisation that belongs to no one city (national or international)."""

    organisation_id: str = Field(examples=["uk-china-biotech-fund"])
    name: str | None = Field(description="Null until its registration event has arrived")
    native_name: str | None = None
    kind: str | None = Field(default=None, description="The stakeholder kind")
    scope: str | None = Field(default=None, description="national or international")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2; null: none")
    website: str | None = None


class MouParty(BaseModel):
    """A city (only ``city_id``), one of its organisations (both ids) or an organisation
    with no city (only ``organisation_id``)."""

    city_id: str | None = None
    organisation_id: str | None = None
    name: str | None = Field(default=None, description="Null while not known here yet")
    stakeholder_ids: list[str] = Field(default_factory=list)


class Signature(BaseModel):
    city_id: str | None
    organisation_id: str | None = None
    signed_on: PartialDate | None = Field(description="Null: signed, date unknown")
    place: str | None = None
    signatory: str | None = None
    occasion: str | None = None


class MouOut(BaseModel):
    """A MoU between the lead city and one or more counterparts."""

    mou_id: str = Field(examples=["granada-kunming-ciba-2018"])
    title: str | None
    subject: str = ""
    themes: list[str] = Field(default_factory=list)
    parties: list[MouParty] = Field(default_factory=list)
    party_city_ids: list[str] = Field(description="Cities of the parties that have one")
    status: MouStatus = Field(description="On the status's day, from signatures and validity")
    signed_on: PartialDate | None = Field(
        description="Last party's signature, once all signed and every date is known"
    )
    signatures: list[Signature]
    valid_from: PartialDate | None
    valid_until: PartialDate | None
    terminated_on: PartialDate | None
    expired_on: PartialDate | None
    expires_soon: bool = Field(
        description="In force or signed, and its validity ends within 90 days"
    )
    details_omitted: bool = Field(
        default=False,
        description="Subject, themes and signature details left out: the copy passed its "
        "size bound",
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


class Partner(BaseModel):
    city_id: str
    role: str = Field(examples=["partner"])


class Measure(BaseModel):
    value: float
    on: PartialDate


class IndicatorOut(BaseModel):
    indicator_id: str
    name: str
    unit: str
    baseline: Measure | None = None
    target: Measure | None = None
    latest: Measure | None = Field(
        default=None, description="Its value in the latest progress update that gives one"
    )


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
    description: str | None = None
    partners: list[Partner] = Field(default_factory=list)
    stakeholder_ids: list[str] = Field(default_factory=list)
    sdg_targets: list[str] = Field(default_factory=list)
    urban_agenda_themes: list[str] = Field(default_factory=list)
    indicators: list[IndicatorOut] = Field(default_factory=list)
    details_omitted: bool = Field(
        default=False,
        description="Description and indicators left out: the copy passed its size bound",
    )


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
    activities_per_year: dict[str, int] = Field(
        description="Held activities per year", examples=[{"2018": 3, "2019": 4, "2020": 4}]
    )
    activities_planned: int = Field(default=0, description="Activities planned, not held yet")
    milestones: MilestoneCounts
    share_pilots_updated_90_days: float | None = Field(
        description="Share (0-1) of pilots with an update in the last 90 days; null: no pilots"
    )


class UcapStatus(BaseModel):
    """The consolidated status of one U-CAP, as it stands on ``on``."""

    ucap_id: str = Field(examples=["granada-ucap"])
    on: date = Field(description="The day time-relative figures are computed for")
    axis: Axis = Field(
        default=Axis.LIVE,
        description="live (now), cooperation (`as_of`: by the dates the facts carry) or "
        "recorded (`recorded_as_of`: what was recorded by then)",
    )
    ucap: Ucap = Field(
        description="The U-CAP itself: header, themes, goals, challenges, objectives, "
        "timeline, delivery and deliverables"
    )
    lead_city: CityProfile
    counterparts: list[CounterpartOut] = Field(description="In the U-CAP's counterpart order")
    other_pilots: list[PilotOut] = Field(
        description="Pilots of this U-CAP that no counterpart city takes part in"
    )
    organisations: list[Organisation] = Field(
        default_factory=list,
        description="Organisations with no city that a MoU party or a pilot refers to",
    )
    figures: Figures
    flags: Flags
    freshness: list[TopicFreshness] = Field(
        description="Per source topic: last applied event time and consumer lag"
    )
    applied: dict[str, int] = Field(
        default_factory=dict,
        description="Per source stream (`pilot:<id>`, `city:<id>`, `mou:<id>`, "
        "`organisation:<id>`, `ucap:<id>`), the last sequence this status holds: whether "
        "it holds a given event",
        examples=[{"ucap:granada-ucap": 14, "pilot:granada-blocklab": 3}],
    )
