"""The U-CAP data file that ``ucap load`` reads, as models.

One JSON document: ``{"format": "ucap-data", "version": 2, "source": …, "cities": […],
"organisations": […], "mous": […], "pilots": […], "ucaps": […]}``. Version 2 adds a
city's ``kind``, organisations with no city, MoU parties and signatures that are
organisations, signatures of unknown date (``"signed_on": null``), and an activity's
``status`` and ``end_date``; a version 1 file reads as version 2 with their defaults.
Each entry holds what the owning service's API takes to create it, plus what follows in
its life (an MoU's signatures, a pilot's status changes, milestones, funding, indicators
and progress, a U-CAP's activities and deliveries) and the dates that place each step in
the cooperation's timeline. Business rules stay with the services: the file is checked
for its shape only, and whatever a service refuses is reported by the loader.
"""

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

FORMAT = "ucap-data"
VERSION = 2
VERSIONS = (1, 2)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]
"""A date at its own precision: ``2018``, ``2018-07`` or ``2018-07-15``."""
Text = Annotated[str, StringConstraints(min_length=1)]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


# --- cities ---------------------------------------------------------------------


class Population(Entry):
    known: bool
    value: int | None = None
    year: int | None = None


class Stakeholder(Entry):
    id: Slug
    name: Text
    kind: str
    website: str | None = None


CityKind = Literal[
    "city", "region", "metropolitan_authority", "combined_authority", "district", "new_area"
]


class City(Entry):
    id: Slug
    registered_on: Day | None = Field(default=None, description="Dates the registration")
    kind: CityKind = "city"
    name: Text
    native_name: str | None = None
    region: str | None = None
    country: str
    world_region: str
    population: Population
    area_km2: float | None = None
    clusters: list[str] = Field(default_factory=list)
    stakeholders: list[Stakeholder] = Field(default_factory=list)


# --- organisations with no city ------------------------------------------------


class Organisation(Entry):
    """An organisation that belongs to no one city: a national agency, an international fund."""

    organisation_id: Slug
    name: Text
    native_name: str | None = None
    kind: str
    scope: Literal["national", "international"]
    country: str | None = Field(default=None, description="ISO 3166 alpha-2; national ones")
    website: str | None = None

    @model_validator(mode="after")
    def _national_has_a_country(self) -> Self:
        if self.scope == "national" and self.country is None:
            raise ValueError("a national organisation needs its country")
        return self


# --- MoUs -----------------------------------------------------------------------


class PartyName(Entry):
    """A city, a city's stakeholder (both ids), or an organisation with no city."""

    city_id: Slug | None = None
    organisation_id: Slug | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> Self:
        if self.city_id is None and self.organisation_id is None:
            raise ValueError("a party needs a city_id, an organisation_id or both")
        return self

    @property
    def party(self) -> tuple[str | None, str | None]:
        return (self.city_id, self.organisation_id)

    @property
    def label(self) -> str:
        return "/".join(part for part in self.party if part is not None)


class Party(PartyName):
    stakeholder_ids: list[str] = Field(default_factory=list)


class Document(Entry):
    title: Text
    url: Text


class Signature(PartyName):
    signed_on: Day | None = Field(description="Required; null: the date is not known")
    place: str | None = None
    signatory: str | None = None
    occasion: str | None = None


class Mou(Entry):
    id: Slug
    drafted_on: Day | None = Field(default=None, description="Default: its first signature")
    title: Text
    subject: str = ""
    parties: list[Party]
    themes: list[str] = Field(default_factory=list)
    valid_from: Day | None = None
    valid_until: Day | None = None
    documents: list[Document] = Field(default_factory=list)
    signatures: list[Signature] = Field(default_factory=list)

    @property
    def drafted(self) -> str | None:
        dated = (s.signed_on for s in self.signatures if s.signed_on is not None)
        return self.drafted_on or min(dated, default=None)


# --- pilots ---------------------------------------------------------------------


class Partner(Entry):
    city_id: Slug
    role: str


class StatusChange(Entry):
    action: Literal["approve", "start", "hold", "resume", "complete", "cancel"]
    effective_on: Day | None = None
    note: str | None = None


class Milestone(Entry):
    id: Slug
    title: Text
    planned_on: Day
    completed_on: Day | None = None


class Award(Entry):
    id: Slug
    funder: Text
    category: str | None = None
    amount: str | None = None
    currency: str | None = None
    awarded_on: Day


class Measure(Entry):
    value: float
    on: Day


class Indicator(Entry):
    id: Slug
    name: Text
    unit: Text
    baseline: Measure | None = None
    target: Measure | None = None


class IndicatorValue(Entry):
    indicator_id: Slug
    value: float


class Attachment(Entry):
    title: Text
    url: Text


class Progress(Entry):
    idempotency_key: Text = Field(description="Makes the update once-only, however often loaded")
    reported_on: Day
    reporting_city_id: Slug
    summary: Text
    indicator_values: list[IndicatorValue] = Field(default_factory=list)
    milestone_id: Slug | None = None
    attachments: list[Attachment] = Field(default_factory=list)


class Pilot(Entry):
    id: Slug
    proposed_on: Day | None = None
    title: Text
    description: str = ""
    lead_city_id: Slug
    partners: list[Partner] = Field(default_factory=list)
    stakeholder_ids: list[str] = Field(default_factory=list)
    cluster: str | None = None
    themes: list[str] = Field(default_factory=list)
    sdg_goals: list[int] = Field(default_factory=list)
    sdg_targets: list[str] = Field(default_factory=list)
    urban_agenda_themes: list[str] = Field(default_factory=list)
    mou_ids: list[Slug] = Field(default_factory=list)
    ucap_id: Slug | None = None
    milestones: list[Milestone] = Field(default_factory=list)
    funding: list[Award] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    status_changes: list[StatusChange] = Field(default_factory=list)
    progress: list[Progress] = Field(default_factory=list)


# --- U-CAPs ---------------------------------------------------------------------


class Period(Entry):
    from_: Day = Field(alias="from")
    until: Day | None = None


class Theme(Entry):
    title: Text
    key_focus: str = ""


ActivityStatus = Literal["planned", "held", "cancelled", "postponed"]
ACTIVITY_DEFAULTS: dict[str, Any] = {"status": "held", "end_date": None}
"""What a version 1 file, and a reporting service that predates them, mean by no status."""


class Activity(Entry):
    activity_id: Text
    date: Day
    end_date: Day | None = Field(default=None, description="The last day of one over several")
    status: ActivityStatus = "held"
    kind: str
    ordinal: int | None = None
    title: Text
    places: list[str] = Field(default_factory=list)
    city_ids: list[Slug] = Field(default_factory=list)
    outcome: str = ""
    mou_ids: list[Slug] = Field(default_factory=list)
    pilot_ids: list[Slug] = Field(default_factory=list)


class Deliverable(Entry):
    title: Text
    date: Day
    kind: str
    url: str | None = None


class Delivery(Entry):
    status: str
    delivered_on: Day
    deliverable: Deliverable

    @property
    def on(self) -> str:
        """When it happened: its deliverable's date."""
        return self.deliverable.date


class Ucap(Entry):
    id: Slug
    title: Text
    lead_city_id: Slug
    counterpart_city_ids: list[Slug]
    period: Period | None = None
    themes: list[Theme] | None = None
    sdgs: list[int] | None = None
    urban_agenda_themes: list[str] | None = None
    key_challenges: list[str] | None = None
    main_objectives: list[str] | None = None
    expected_results: str | None = None
    contact: str | None = None
    activities: list[Activity] = Field(default_factory=list)
    deliveries: list[Delivery] = Field(default_factory=list)

    def sections(self) -> dict[str, Any]:
        """The U-CAP's own fields as its API takes them (no timeline, no deliveries)."""
        return self.model_dump(mode="json", exclude={"activities", "deliveries"}, exclude_none=True)


# --- the file -------------------------------------------------------------------


class DataFile(Entry):
    format: Literal["ucap-data"]
    version: Literal[1, 2]
    source: str | None = None
    cities: list[City] = Field(default_factory=list)
    organisations: list[Organisation] = Field(default_factory=list)
    mous: list[Mou] = Field(default_factory=list)
    pilots: list[Pilot] = Field(default_factory=list)
    ucaps: list[Ucap] = Field(default_factory=list)
