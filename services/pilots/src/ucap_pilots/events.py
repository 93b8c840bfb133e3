"""The events the pilots service publishes on ``ucap.pilots.events``.

The reporting service and the gateway consume these: the type strings and
field names are a contract. A breaking change is a new ``.vN`` type, never an
edit. All dates are partial dates (``2020``, ``2020-07``, ``2020-07-15``).
"""

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ucap_shared.dates import PartialDate
from ucap_shared.events import EventData

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


_PROPOSED_EXAMPLE: dict[str, Any] = {
    "pilot_id": "granada-blocklab",
    "title": "BlockLab online cooperative platform",
    "description": "An online cooperative work platform on blockchain for circular economy.",
    "lead_city_id": "granada",
    "partners": [
        {"city_id": "granada", "role": "lead"},
        {"city_id": "kunming", "role": "partner"},
    ],
    "stakeholder_ids": ["medialab-ugr", "ontech-granada"],
    "cluster": "Circular Economy",
    "themes": ["Smart City and Digital Transition"],
    "sdg_goals": [9, 11],
    "sdg_targets": ["11.3"],
    "urban_agenda_themes": ["Digital Transition"],
    "mou_ids": [],
    "ucap_id": "granada-ucap",
}


class PilotProposed(EventData):
    """A pilot was proposed; it starts in status ``proposed``."""

    event_type = "ucap.pilot.proposed.v1"
    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [_PROPOSED_EXAMPLE]}
    )

    pilot_id: str = Field(description="Starts with the lead city's id and a dash")
    title: str = Field(description="The pilot's title")
    description: str = Field(description="What the pilot is about")
    lead_city_id: str = Field(description="The lead city")
    partners: tuple[PartnerCity, ...] = Field(
        description="Every city of the pilot with its role; the lead city with role lead"
    )
    stakeholder_ids: tuple[str, ...] = Field(description="Stakeholder organisations involved")
    cluster: str | None = Field(description="Thematic cluster", examples=["Smart City"])
    themes: tuple[str, ...] = Field(description="Cooperation themes")
    sdg_goals: tuple[int, ...] = Field(description="SDG goals, 1 to 17")
    sdg_targets: tuple[str, ...] = Field(description="SDG targets, e.g. 11.3")
    urban_agenda_themes: tuple[str, ...] = Field(description="EU Urban Agenda themes")
    mou_ids: tuple[str, ...] = Field(description="MoUs the pilot is based on")
    ucap_id: str | None = Field(description="The U-CAP the pilot belongs to")


class _StatusChanged(EventData):
    pilot_id: str = Field(description="The pilot")
    effective_on: PartialDate | None = Field(description="When the change took effect, if said")
    note: str | None = Field(description="Why, or anything worth recording")


def _status_example(status: str) -> ConfigDict:
    example = {"pilot_id": "granada-blockchain-webinars", "status": status}
    return ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [{**example, "effective_on": "2019-09", "note": None}]},
    )


class PilotApproved(_StatusChanged):
    """The pilot was approved (status ``approved``)."""

    event_type = "ucap.pilot.approved.v1"
    model_config = _status_example("approved")
    status: Literal["approved"] = Field(default="approved", description="The new status")


class PilotStarted(_StatusChanged):
    """Implementation started (status ``in_progress``)."""

    event_type = "ucap.pilot.started.v1"
    model_config = _status_example("in_progress")
    status: Literal["in_progress"] = Field(default="in_progress", description="The new status")


class PilotPutOnHold(_StatusChanged):
    """The pilot was suspended (status ``on_hold``)."""

    event_type = "ucap.pilot.put_on_hold.v1"
    model_config = _status_example("on_hold")
    status: Literal["on_hold"] = Field(default="on_hold", description="The new status")


class PilotResumed(_StatusChanged):
    """The pilot resumed after a hold (status ``in_progress``)."""

    event_type = "ucap.pilot.resumed.v1"
    model_config = _status_example("in_progress")
    status: Literal["in_progress"] = Field(default="in_progress", description="The new status")


class PilotCompleted(_StatusChanged):
    """The pilot was completed (status ``completed``)."""

    event_type = "ucap.pilot.completed.v1"
    model_config = _status_example("completed")
    status: Literal["completed"] = Field(default="completed", description="The new status")


class PilotCancelled(_StatusChanged):
    """The pilot was cancelled (status ``cancelled``)."""

    event_type = "ucap.pilot.cancelled.v1"
    model_config = _status_example("cancelled")
    status: Literal["cancelled"] = Field(default="cancelled", description="The new status")


class PilotDetailsUpdated(EventData):
    """Some details changed; only the changed fields are present besides ``pilot_id``."""

    event_type = "ucap.pilot.details_updated.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"pilot_id": "granada-blocklab", "cluster": "Smart City", "sdg_goals": [9, 11, 17]}
            ]
        },
    )

    pilot_id: str = Field(description="The pilot")
    title: str | None = Field(default=None, description="New value")
    description: str | None = Field(default=None, description="New value")
    partners: tuple[PartnerCity, ...] | None = Field(default=None, description="New value")
    stakeholder_ids: tuple[str, ...] | None = Field(default=None, description="New value")
    cluster: str | None = Field(default=None, description="New value; null: no cluster")
    themes: tuple[str, ...] | None = Field(default=None, description="New value")
    sdg_goals: tuple[int, ...] | None = Field(default=None, description="New value")
    sdg_targets: tuple[str, ...] | None = Field(default=None, description="New value")
    urban_agenda_themes: tuple[str, ...] | None = Field(default=None, description="New value")
    mou_ids: tuple[str, ...] | None = Field(default=None, description="New value")
    ucap_id: str | None = Field(default=None, description="New value; null: no U-CAP")

    def model_dump(self, **options: Any) -> dict[str, Any]:  # noqa: ANN401 - BaseModel's options
        """Only the fields set: an absent field is unchanged, a null one is cleared."""
        options.setdefault("exclude_unset", True)
        return {"pilot_id": self.pilot_id, **super().model_dump(**options)}

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set - {"pilot_id"}}


class MilestoneAdded(EventData):
    """A milestone was planned."""

    event_type = "ucap.pilot.milestone_added.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pilot_id": "granada-blockchain-webinars",
                    "milestone": {
                        "milestone_id": "webinar-1",
                        "title": "First webinar",
                        "planned_on": "2020-07",
                    },
                }
            ]
        },
    )

    pilot_id: str = Field(description="The pilot")
    milestone: Milestone


class MilestoneCompleted(EventData):
    """A milestone was reached."""

    event_type = "ucap.pilot.milestone_completed.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pilot_id": "granada-blockchain-webinars",
                    "milestone_id": "webinar-1",
                    "completed_on": "2020-07-15",
                }
            ]
        },
    )

    pilot_id: str = Field(description="The pilot")
    milestone_id: str = Field(description="The milestone reached")
    completed_on: PartialDate = Field(description="When it was reached")


class FundingAwarded(EventData):
    """Funding was awarded to the pilot."""

    event_type = "ucap.pilot.funding_awarded.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pilot_id": "granada-blockchain-webinars",
                    "award": {
                        "award_id": "iuc-competitive-fund-2019",
                        "funder": "IUC competitive fund",
                        "category": "gold",
                        "amount": None,
                        "currency": None,
                        "awarded_on": "2019-09",
                    },
                }
            ]
        },
    )

    pilot_id: str = Field(description="The pilot")
    award: FundingAward


class ProgressReported(EventData):
    """A city of the pilot reported progress."""

    event_type = "ucap.pilot.progress_reported.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pilot_id": "granada-blockchain-webinars",
                    "update": {
                        "update_id": "upd-6b1e9f0c2a7d4e1f9a3b5c7d",
                        "reported_on": "2020-07-15",
                        "reporting_city_id": "granada",
                        "summary": "First webinar held online with 120 participants.",
                        "indicator_values": [{"indicator_id": "participants", "value": 120}],
                        "milestone_id": "webinar-1",
                        "attachments": [
                            {"title": "Recording", "url": "https://example.org/webinar-1"}
                        ],
                    },
                }
            ]
        },
    )

    pilot_id: str = Field(description="The pilot")
    update: ProgressUpdate


class IndicatorAdded(EventData):
    """An indicator was defined for the pilot."""

    event_type = "ucap.pilot.indicator_added.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pilot_id": "granada-blockchain-webinars",
                    "indicator": {
                        "indicator_id": "participants",
                        "name": "Webinar participants",
                        "unit": "people",
                        "baseline": {"value": 0, "on": "2020-06"},
                        "target": {"value": 300, "on": "2020-11"},
                    },
                }
            ]
        },
    )

    pilot_id: str = Field(description="The pilot")
    indicator: Indicator


StatusEvent = (
    PilotApproved | PilotStarted | PilotPutOnHold | PilotResumed | PilotCompleted | PilotCancelled
)
PilotEvent = (
    PilotProposed
    | StatusEvent
    | PilotDetailsUpdated
    | MilestoneAdded
    | MilestoneCompleted
    | FundingAwarded
    | ProgressReported
    | IndicatorAdded
)

PUBLISHED_EVENTS: tuple[type[EventData], ...] = (
    PilotProposed,
    PilotApproved,
    PilotStarted,
    PilotPutOnHold,
    PilotResumed,
    PilotCompleted,
    PilotCancelled,
    PilotDetailsUpdated,
    MilestoneAdded,
    MilestoneCompleted,
    FundingAwarded,
    ProgressReported,
    IndicatorAdded,
)
