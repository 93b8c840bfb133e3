"""Progress: an update a city of the pilot reports, and the update as recorded."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ucap_pilots.domain import RecordedUpdate
from ucap_pilots.events import Attachment, IndicatorValue, ProgressUpdate
from ucap_pilots.schemas.fields import IdempotencyKey, Label, Number, RequestModel, Slug, Url
from ucap_shared import bounds
from ucap_shared.dates import PartialDate


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


class ProgressOut(BaseModel):
    pilot_id: str
    update: RecordedUpdate
