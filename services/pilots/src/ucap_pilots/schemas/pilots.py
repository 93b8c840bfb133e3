"""Pilots: proposing one, editing its details, changing its status, and one as read."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ucap_pilots.domain import (
    IATI_ACTIVITY_STATUS,
    Action,
    Pilot,
    RecordedUpdate,
    Status,
    StatusChange,
    allowed_actions,
    with_lead,
)
from ucap_pilots.events import FundingAward, PartnerCity, PilotDetailsUpdated, PilotProposed, Role
from ucap_pilots.schemas.fields import (
    Label,
    LongText,
    Note,
    RequestModel,
    SdgGoal,
    SdgTarget,
    Slug,
)
from ucap_pilots.schemas.indicators import IndicatorOut
from ucap_pilots.schemas.milestones import MilestoneOut
from ucap_shared import bounds
from ucap_shared.dates import PartialDate
from ucap_shared.errors import FieldProblem, InvalidInputError


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
    proposed_on: PartialDate | None = Field(
        default=None,
        description="When it was proposed, if not today: the day the cooperation's own "
        "time (`as_of`) counts it from",
        examples=["2020-05"],
    )

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
            proposed_on=self.proposed_on,
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


class IatiStatus(BaseModel):
    code: int = Field(description="IATI ActivityStatus code", examples=[2])
    name: str = Field(examples=["Implementation"])


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
