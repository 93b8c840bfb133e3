"""The values the pilot's events carry: partner cities, milestones, awards, indicators, updates.

Part of the events' contract, like the events themselves.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ucap_shared.dates import PartialDate

_value = ConfigDict(frozen=True, extra="forbid")


class Role(StrEnum):
    """A city's role in a pilot, after the IATI organisation roles."""

    LEAD = "lead"
    PARTNER = "partner"
    IMPLEMENTING = "implementing"
    FUNDING = "funding"


class PartnerCity(BaseModel):
    model_config = _value

    city_id: str = Field(description="The city's id", examples=["kunming"])
    role: Role = Field(description="Its role: lead, partner, implementing or funding")


class Milestone(BaseModel):
    model_config = _value

    milestone_id: str = Field(description="Unique within the pilot", examples=["webinar-1"])
    title: str = Field(description="What is to be done", examples=["First blockchain webinar"])
    planned_on: PartialDate = Field(description="When it is planned, at its precision")


class FundingAward(BaseModel):
    model_config = _value

    award_id: str = Field(description="Unique within the pilot", examples=["iuc-fund-2019"])
    funder: str = Field(description="Who awards it", examples=["IUC competitive fund"])
    category: str | None = Field(description="Award category, e.g. gold", examples=["gold"])
    amount: str | None = Field(description="Decimal amount as a string; null when not known")
    currency: str | None = Field(description="ISO 4217 code of the amount", examples=["EUR"])
    awarded_on: PartialDate = Field(description="When it was awarded")


class IndicatorValue(BaseModel):
    model_config = _value

    indicator_id: str = Field(description="An indicator of the pilot")
    value: float = Field(description="The value measured")


class Attachment(BaseModel):
    model_config = _value

    title: str = Field(description="What the attachment is")
    url: str = Field(description="Where to find it")


class ProgressUpdate(BaseModel):
    model_config = _value

    update_id: str = Field(description="Derived from the client's idempotency key")
    reported_on: PartialDate = Field(description="The date the update reports on")
    reporting_city_id: str = Field(description="The city reporting, a city of the pilot")
    summary: str = Field(description="What happened")
    indicator_values: tuple[IndicatorValue, ...] = Field(
        description="Indicator values measured (the indicators' actuals)"
    )
    milestone_id: str | None = Field(description="A milestone this update reports as reached")
    attachments: tuple[Attachment, ...] = Field(description="Documents, photos, links")


class Measure(BaseModel):
    model_config = _value

    value: float = Field(description="The value")
    on: PartialDate = Field(description="The date it refers to")


class Indicator(BaseModel):
    model_config = _value

    indicator_id: str = Field(description="Unique within the pilot", examples=["participants"])
    name: str = Field(description="What is measured", examples=["Webinar participants"])
    unit: str = Field(description="Unit of the values", examples=["people"])
    baseline: Measure | None = Field(description="Value at the start, if known")
    target: Measure | None = Field(description="Value aimed at, if set")
