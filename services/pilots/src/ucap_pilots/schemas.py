"""Request and response bodies of the HTTP API, with their limits and examples."""

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ucap_pilots.domain import (
    IATI_ACTIVITY_STATUS,
    Action,
    Actual,
    Pilot,
    RecordedUpdate,
    Status,
    StatusChange,
    allowed_actions,
    with_lead,
)
from ucap_pilots.events import (
    Attachment,
    FundingAward,
    Indicator,
    IndicatorValue,
    Measure,
    Milestone,
    PartnerCity,
    PilotDetailsUpdated,
    PilotProposed,
    ProgressUpdate,
    Role,
)
from ucap_shared import bounds
from ucap_shared.dates import PartialDate
from ucap_shared.errors import FieldProblem, InvalidInputError

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SDG_TARGET_PATTERN = r"^([1-9]|1[0-7])\.([1-9][0-9]?|[a-z])$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=bounds.ID_CHARS)]
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=bounds.NAME_CHARS, strip_whitespace=True)
]
Word = Annotated[str, StringConstraints(min_length=1, max_length=bounds.WORD_CHARS)]
LongText = Annotated[str, StringConstraints(max_length=bounds.TEXT_CHARS)]
Note = Annotated[str, StringConstraints(max_length=bounds.NOTE_CHARS)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=bounds.URL_CHARS)]
SdgGoal = Annotated[int, Field(ge=1, le=bounds.SDGS)]
SdgTarget = Annotated[str, StringConstraints(pattern=SDG_TARGET_PATTERN)]
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=bounds.KEY_CHARS, pattern=r"^[\x21-\x7e]+$")
]
Number = Annotated[float, Field(allow_inf_nan=False)]


def slug_of(*parts: str) -> str:
    """A slug from free text, for ids the caller leaves out (so a retry gives the same id)."""
    text = "-".join(parts).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80] or "item"


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartnerIn(RequestModel):
    city_id: Slug = Field(description="A city this service knows", examples=["kunming"])
    role: Role = Field(description="lead (the lead city only), partner, implementing, funding")


class ProposePilotRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "granada-blocklab",
                    "title": "BlockLab online cooperative platform",
                    "description": "Online cooperative work platform on blockchain.",
                    "lead_city_id": "granada",
                    "partners": [{"city_id": "kunming", "role": "partner"}],
                    "stakeholder_ids": ["medialab-ugr", "ontech-granada"],
                    "cluster": "Circular Economy",
                    "themes": ["Smart City and Digital Transition"],
                    "sdg_goals": [9, 11],
                    "sdg_targets": ["11.3"],
                    "urban_agenda_themes": ["Digital Transition"],
                    "mou_ids": [],
                    "ucap_id": "granada-ucap",
                }
            ]
        },
    )

    id: Slug = Field(description="The pilot's id: the lead city's id, a dash, a slug")
    title: Label = Field(description="The pilot's title")
    description: LongText = Field(default="", description="What the pilot is about")
    lead_city_id: Slug = Field(description="The lead city")
    partners: list[PartnerIn] = Field(
        default_factory=list,
        max_length=bounds.ITEMS_PER_LIST,
        description="Cities with their roles; the lead city is added as lead when left out",
    )
    stakeholder_ids: list[Slug] = Field(default_factory=list, max_length=bounds.IDS_PER_LIST)
    cluster: Label | None = Field(default=None, examples=["Smart City"])
    themes: list[Label] = Field(default_factory=list, max_length=bounds.THEMES_PER_LIST)
    sdg_goals: list[SdgGoal] = Field(default_factory=list, max_length=bounds.SDGS)
    sdg_targets: list[SdgTarget] = Field(
        default_factory=list,
        max_length=bounds.ITEMS_PER_LIST,
        description="Each of a goal listed, e.g. 11.3",
    )
    urban_agenda_themes: list[Label] = Field(
        default_factory=list, max_length=bounds.THEMES_PER_LIST
    )
    mou_ids: list[Slug] = Field(default_factory=list, max_length=bounds.ITEMS_PER_LIST)
    ucap_id: Slug | None = Field(default=None, examples=["granada-ucap"])

    def command(self) -> PilotProposed:
        partners = [PartnerCity(city_id=p.city_id, role=p.role) for p in self.partners]
        return PilotProposed(
            pilot_id=self.id,
            title=self.title,
            description=self.description,
            lead_city_id=self.lead_city_id,
            partners=with_lead(self.lead_city_id, partners),
            stakeholder_ids=tuple(self.stakeholder_ids),
            cluster=self.cluster,
            themes=tuple(self.themes),
            sdg_goals=tuple(self.sdg_goals),
            sdg_targets=tuple(self.sdg_targets),
            urban_agenda_themes=tuple(self.urban_agenda_themes),
            mou_ids=tuple(self.mou_ids),
            ucap_id=self.ucap_id,
        )


NULLABLE_DETAILS = frozenset({"cluster", "ucap_id"})


class EditPilotRequest(RequestModel):
    """Only the fields sent change; `cluster` and `ucap_id` may be set to null."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"cluster": "Smart City", "sdg_goals": [9, 11]}]},
    )

    title: Label | None = None
    description: LongText | None = None
    partners: list[PartnerIn] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    stakeholder_ids: list[Slug] | None = Field(default=None, max_length=bounds.IDS_PER_LIST)
    cluster: Label | None = None
    themes: list[Label] | None = Field(default=None, max_length=bounds.THEMES_PER_LIST)
    sdg_goals: list[SdgGoal] | None = Field(default=None, max_length=bounds.SDGS)
    sdg_targets: list[SdgTarget] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    urban_agenda_themes: list[Label] | None = Field(default=None, max_length=bounds.THEMES_PER_LIST)
    mou_ids: list[Slug] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    ucap_id: Slug | None = None

    def command(self, pilot_id: str) -> PilotDetailsUpdated:
        nulls = [
            name for name in self.model_fields_set - NULLABLE_DETAILS if getattr(self, name) is None
        ]
        if nulls:
            raise InvalidInputError(
                [FieldProblem(loc=["body", name], msg="may not be null") for name in nulls]
            )
        changes: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == "partners":
                value = tuple(PartnerCity(city_id=p.city_id, role=p.role) for p in value)
            elif isinstance(value, list):
                value = tuple(value)
            changes[name] = value
        return PilotDetailsUpdated(pilot_id=pilot_id, **changes)


class StatusChangeRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"effective_on": "2019-09", "note": "Fund awarded"}]},
    )

    effective_on: PartialDate | None = Field(
        default=None, description="When it took effect, if not the day it is recorded"
    )
    note: Note | None = Field(default=None, description="Why")


class MilestoneRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"id": "webinar-1", "title": "First webinar", "planned_on": "2020-07"}]
        },
    )

    id: Slug | None = Field(default=None, description="Unique within the pilot; default from title")
    title: Label
    planned_on: PartialDate = Field(description="Planned date at its precision: 2020-07")

    def milestone(self) -> Milestone:
        return Milestone(
            milestone_id=self.id or slug_of(self.title),
            title=self.title,
            planned_on=self.planned_on,
        )


class CompleteMilestoneRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"completed_on": "2020-07-15"}]}
    )

    completed_on: PartialDate = Field(description="When it was reached")


class FundingRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "iuc-competitive-fund-2019",
                    "funder": "IUC competitive fund",
                    "category": "gold",
                    "awarded_on": "2019-09",
                }
            ]
        },
    )

    id: Slug | None = Field(default=None, description="Unique within the pilot; default derived")
    funder: Label
    category: Word | None = None
    amount: Annotated[str, StringConstraints(pattern=r"^\d{1,15}(\.\d{1,4})?$")] | None = Field(
        default=None, description="A decimal as a string", examples=["50000.00"]
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="ISO 4217", examples=["EUR"]
    )
    awarded_on: PartialDate

    def award(self) -> FundingAward:
        return FundingAward(
            award_id=self.id or slug_of(self.funder, self.awarded_on.iso()),
            funder=self.funder,
            category=self.category,
            amount=self.amount,
            currency=self.currency,
            awarded_on=self.awarded_on,
        )


class MeasureIn(RequestModel):
    value: Number
    on: PartialDate


class IndicatorRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "participants",
                    "name": "Webinar participants",
                    "unit": "people",
                    "baseline": {"value": 0, "on": "2020-06"},
                    "target": {"value": 300, "on": "2020-11"},
                }
            ]
        },
    )

    id: Slug | None = Field(default=None, description="Unique within the pilot; default from name")
    name: Label
    unit: Word
    baseline: MeasureIn | None = None
    target: MeasureIn | None = None

    def indicator(self) -> Indicator:
        def measure(value: MeasureIn | None) -> Measure | None:
            return Measure(value=value.value, on=value.on) if value else None

        return Indicator(
            indicator_id=self.id or slug_of(self.name),
            name=self.name,
            unit=self.unit,
            baseline=measure(self.baseline),
            target=measure(self.target),
        )


class IndicatorValueIn(RequestModel):
    indicator_id: Slug
    value: Number


class AttachmentIn(RequestModel):
    title: Label
    url: Url


class ProgressRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reported_on": "2020-07-15",
                    "reporting_city_id": "granada",
                    "summary": "First webinar held with 120 participants.",
                    "indicator_values": [{"indicator_id": "participants", "value": 120}],
                    "milestone_id": "webinar-1",
                    "attachments": [{"title": "Recording", "url": "https://example.org/w1"}],
                    "idempotency_key": "granada-2020-07-15-webinar-1",
                }
            ]
        },
    )

    reported_on: PartialDate
    reporting_city_id: Slug = Field(description="A city of the pilot")
    summary: Annotated[str, StringConstraints(min_length=1, max_length=bounds.TEXT_CHARS)]
    indicator_values: list[IndicatorValueIn] = Field(
        default_factory=list, max_length=bounds.ITEMS_PER_LIST
    )
    milestone_id: Slug | None = Field(default=None, description="A milestone reached")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=bounds.THEMES_PER_LIST)
    idempotency_key: IdempotencyKey | None = Field(
        default=None, description="Or the `Idempotency-Key` header: one update per key"
    )

    def update(self, update_id: str) -> ProgressUpdate:
        return ProgressUpdate(
            update_id=update_id,
            reported_on=self.reported_on,
            reporting_city_id=self.reporting_city_id,
            summary=self.summary,
            indicator_values=tuple(
                IndicatorValue(indicator_id=v.indicator_id, value=v.value)
                for v in self.indicator_values
            ),
            milestone_id=self.milestone_id,
            attachments=tuple(Attachment(title=a.title, url=a.url) for a in self.attachments),
        )


# --- responses ----------------------------------------------------------------


class IatiStatus(BaseModel):
    code: int = Field(description="IATI ActivityStatus code", examples=[2])
    name: str = Field(examples=["Implementation"])


class MilestoneOut(BaseModel):
    id: str
    title: str
    planned_on: PartialDate
    completed_on: PartialDate | None
    status: str = Field(description="done, overdue or planned", examples=["overdue"])


class IndicatorOut(BaseModel):
    id: str
    name: str
    unit: str
    baseline: Measure | None
    target: Measure | None
    actuals: list[Actual] = Field(description="Values reported by progress updates, in order")
    latest: Actual | None


class PilotOut(BaseModel):
    """A pilot, with derived fields."""

    id: str = Field(examples=["granada-blocklab"])
    title: str
    description: str
    lead_city_id: str
    partners: list[PartnerCity]
    stakeholder_ids: list[str]
    cluster: str | None
    themes: list[str]
    sdg_goals: list[int]
    sdg_targets: list[str]
    urban_agenda_themes: list[str]
    mou_ids: list[str]
    ucap_id: str | None
    status: Status
    iati_status: IatiStatus
    allowed_actions: list[Action] = Field(description="Status changes possible now")
    status_changes: list[StatusChange]
    milestones: list[MilestoneOut]
    overdue_milestones: list[str] = Field(description="Ids of milestones overdue")
    funding: list[FundingAward]
    indicators: list[IndicatorOut]
    updates: list[RecordedUpdate] = Field(description="Progress updates, in recording order")
    days_since_last_update: int | None = Field(
        description="Days since the last progress update was recorded; null before the first"
    )
    proposed_at: datetime
    updated_at: datetime
    as_of: datetime | None = Field(default=None, description="Set when read as of a past time")

    @classmethod
    def of(cls, pilot: Pilot, today: date, as_of: datetime | None = None) -> "PilotOut":
        code, name = IATI_ACTIVITY_STATUS[pilot.status]
        overdue = {m.milestone_id for m in pilot.overdue_milestones(today)}
        return cls(
            id=pilot.pilot_id,
            title=pilot.title,
            description=pilot.description,
            lead_city_id=pilot.lead_city_id,
            partners=list(pilot.partners),
            stakeholder_ids=list(pilot.stakeholder_ids),
            cluster=pilot.cluster,
            themes=list(pilot.themes),
            sdg_goals=list(pilot.sdg_goals),
            sdg_targets=list(pilot.sdg_targets),
            urban_agenda_themes=list(pilot.urban_agenda_themes),
            mou_ids=list(pilot.mou_ids),
            ucap_id=pilot.ucap_id,
            status=pilot.status,
            iati_status=IatiStatus(code=code, name=name),
            allowed_actions=allowed_actions(pilot.status),
            status_changes=list(pilot.status_changes),
            milestones=[
                MilestoneOut(
                    id=m.milestone_id,
                    title=m.title,
                    planned_on=m.planned_on,
                    completed_on=m.completed_on,
                    status="done"
                    if m.completed_on
                    else "overdue"
                    if m.milestone_id in overdue
                    else "planned",
                )
                for m in pilot.milestones
            ],
            overdue_milestones=sorted(overdue),
            funding=list(pilot.funding),
            indicators=[
                IndicatorOut(
                    id=i.indicator_id,
                    name=i.name,
                    unit=i.unit,
                    baseline=i.baseline,
                    target=i.target,
                    actuals=list(i.actuals),
                    latest=i.actuals[-1] if i.actuals else None,
                )
                for i in pilot.indicators
            ],
            updates=list(pilot.updates),
            days_since_last_update=pilot.days_since_last_update(today),
            proposed_at=pilot.proposed_at,
            updated_at=pilot.updated_at,
            as_of=as_of,
        )


class PilotPage(BaseModel):
    items: list[PilotOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class ProgressOut(BaseModel):
    pilot_id: str
    update: RecordedUpdate


class HistoryEntry(BaseModel):
    sequence: int = Field(description="The pilot's version after this event")
    type: str = Field(examples=["ucap.pilot.approved.v1"])
    time: datetime
    actor: str = Field(examples=["city:granada"])
    data: dict[str, Any]
