"""A pilot's status changed: one event per action of the state machine."""

from typing import Literal

from pydantic import ConfigDict, Field

from ucap_shared.dates import PartialDate
from ucap_shared.events import EventData


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


StatusEvent = (
    PilotApproved | PilotStarted | PilotPutOnHold | PilotResumed | PilotCompleted | PilotCancelled
)
