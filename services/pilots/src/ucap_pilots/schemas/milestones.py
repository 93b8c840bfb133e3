"""Milestones: planning one, completing one, and one as a pilot shows it."""

from pydantic import BaseModel, ConfigDict, Field

from ucap_pilots.events import Milestone
from ucap_pilots.schemas.fields import Label, RequestModel, Slug, slug_of
from ucap_shared.dates import PartialDate


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


class MilestoneOut(BaseModel):
    id: str
    title: str
    planned_on: PartialDate
    completed_on: PartialDate | None
    status: str = Field(description="done, overdue or planned", examples=["overdue"])
