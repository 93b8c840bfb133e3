"""What a pilot plans, receives and reports: milestones, funding, indicators, progress."""

from pydantic import ConfigDict, Field

from ucap_pilots.events.values import FundingAward, Indicator, Milestone, ProgressUpdate
from ucap_shared.dates import PartialDate
from ucap_shared.events import EventData


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
