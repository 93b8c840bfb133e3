"""The reporting service's U-CAP status, as the gateway reads it.

The gateway's own copy of the contract (services share no code): each model
declares what the gateway reads, and keeps every other field as it came
(``extra="allow"``), so a compiled status passes all of it on. Dates and times
stay the strings reporting wrote ("2018-07", an ISO time). The contract test
(``tests/contracts/test_status_contract.py``) reads reporting's own status into
these models and checks that it comes back out unchanged.
"""

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class Reported(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Population(Reported):
    known: bool
    value: int | None = None
    year: int | None = None


class Stakeholder(Reported):
    stakeholder_id: str
    name: str
    kind: str | None = None
    website: str | None = None


class City(Reported):
    city_id: str
    registered: bool
    name: str | None = None
    native_name: str | None = None
    kind: str = "city"
    region: str | None = None
    country: str | None = None
    population: Population | None = None
    area_km2: float | None = None
    clusters: list[str] = Field(default_factory=list)
    stakeholders: list[Stakeholder] = Field(default_factory=list)


class Organisation(Reported):
    """An organisation of no one city (international or national), as an MoU party or a
    pilot names it."""

    organisation_id: str
    name: str
    native_name: str | None = None
    kind: str | None = None
    scope: str | None = None
    country: str | None = None
    website: str | None = None


class Theme(Reported):
    title: str
    key_focus: str | None = None


class Activity(Reported):
    date: str
    end_date: str | None = None
    status: str = "held"
    kind: str
    ordinal: int | None = None
    title: str
    outcome: str | None = None


class Deliverable(Reported):
    title: str
    date: str
    kind: str


class Ucap(Reported):
    ucap_id: str
    title: str
    lead_city_id: str
    counterpart_city_ids: list[str]
    period: dict[str, str | None] | None = Field(description="`from` and `until`")
    themes: list[Theme]
    sdgs: list[int]
    urban_agenda_themes: list[str]
    key_challenges: list[str]
    main_objectives: list[str]
    expected_results: str | None
    contact: str | None
    deliverables: list[Deliverable]
    activities: list[Activity]


class Progress(Reported):
    reported_on: str
    reporting_city_id: str
    summary: str


class Milestone(Reported):
    title: str
    planned_on: str
    completed_on: str | None
    state: str


class MilestoneCounts(Reported):
    done: int
    due: int
    overdue: int


class Measure(Reported):
    value: float
    on: str


class Indicator(Reported):
    indicator_id: str
    name: str
    unit: str | None = None
    baseline: Measure | None = None
    target: Measure | None = None
    latest: Measure | None = None


class Partner(Reported):
    city_id: str
    role: str | None = None


class Award(Reported):
    funder: str
    category: str | None
    amount: str | None
    currency: str | None
    awarded_on: str


class IatiStatus(Reported):
    code: int
    name: str


class Pilot(Reported):
    pilot_id: str
    title: str | None
    description: str | None = None
    cluster: str | None = None
    themes: list[str] = Field(default_factory=list)
    sdg_goals: list[int] = Field(default_factory=list)
    sdg_targets: list[str] = Field(default_factory=list)
    urban_agenda_themes: list[str] = Field(default_factory=list)
    partners: list[Partner] = Field(default_factory=list)
    stakeholder_ids: list[str] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    status: str
    iati_status: IatiStatus
    last_update: Progress | None
    stale: bool
    milestones: list[Milestone]
    milestone_counts: MilestoneCounts
    funding: list[Award]


class Party(Reported):
    """A city, a city's organisation (both ids) or an organisation of no one city."""

    city_id: str | None = None
    organisation_id: str | None = None
    name: str | None = None
    stakeholder_ids: list[str] = Field(default_factory=list)


class Signature(Reported):
    city_id: str | None = None
    organisation_id: str | None = None
    signed_on: str | None = Field(default=None, description="Null: date unknown")
    place: str | None = None
    signatory: str | None = None
    occasion: str | None = None


class Mou(Reported):
    mou_id: str
    title: str | None
    subject: str | None = None
    themes: list[str] = Field(default_factory=list)
    status: str
    signed_on: str | None
    party_city_ids: list[str] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    signatures: list[Signature] = Field(default_factory=list)
    valid_from: str | None = None
    valid_until: str | None = None


class Counterpart(Reported):
    city: City
    mous: list[Mou]
    pilots: list[Pilot]


class Figures(Reported):
    pilots: int
    pilots_by_status: dict[str, int]
    mous: int | None = None
    mous_signed: int
    activities_per_year: dict[str, int] = Field(description="Held activities only")
    activities_planned: int = 0
    milestones: MilestoneCounts
    share_pilots_updated_90_days: float | None


class OverdueMilestone(Reported):
    pilot_id: str
    title: str
    planned_on: str


class StalePilot(Reported):
    pilot_id: str
    title: str | None


class ExpiringMou(Reported):
    mou_id: str
    title: str | None
    valid_until: str


class Flags(Reported):
    overdue_milestones: list[OverdueMilestone]
    stale_pilots: list[StalePilot]
    expiring_mous: list[ExpiringMou]


class Freshness(Reported):
    topic: str
    lag: int | None = None
    last_event_time: str | None = None


class ReportedStatus(Reported):
    """``GET /ucaps/{id}/status`` of the reporting service (its `UcapStatus`)."""

    ucap_id: str
    on: str
    axis: str = Field(default="live", description="live, cooperation or recorded")
    ucap: Ucap
    lead_city: City
    counterparts: list[Counterpart]
    other_pilots: list[Pilot]
    organisations: list[Organisation] = Field(default_factory=list)
    figures: Figures
    flags: Flags
    freshness: list[Freshness]
    applied: dict[str, int] = Field(
        default_factory=dict,
        exclude=True,
        description="Per source stream, the last sequence this status holds (kept, not shown)",
    )

    _etag: str | None = PrivateAttr(default=None)

    @property
    def etag(self) -> str | None:
        """Reporting's ETag of this answer (a header, not the body): to ask if it changed."""
        return self._etag

    def tagged(self, etag: str | None) -> "ReportedStatus":
        self._etag = etag
        return self

    def holds(self, stream: str, sequence: int) -> bool:
        return self.applied.get(stream, 0) >= sequence
