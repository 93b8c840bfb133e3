"""Indicators: defining one, and one as a pilot shows it with its actual values."""

from pydantic import BaseModel, ConfigDict, Field

from ucap_pilots.domain import Actual
from ucap_pilots.events import Indicator, Measure
from ucap_pilots.schemas.fields import Label, Number, RequestModel, Slug, Word, slug_of
from ucap_shared.dates import PartialDate


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


class IndicatorOut(BaseModel):
    id: str
    name: str
    unit: str
    baseline: Measure | None
    target: Measure | None
    actuals: list[Actual] = Field(description="Values reported by progress updates, in order")
    latest: Actual | None
