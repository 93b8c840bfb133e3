"""The events the pilots service publishes on ``ucap.pilots.events``.

The reporting service and the gateway consume these: the type strings and
field names are a contract. A breaking change is a new ``.vN`` type, never an
edit. All dates are partial dates (``2020``, ``2020-07``, ``2020-07-15``).
"""

from ucap_pilots.events.profile import PilotDetailsUpdated, PilotProposed
from ucap_pilots.events.progress import (
    FundingAwarded,
    IndicatorAdded,
    MilestoneAdded,
    MilestoneCompleted,
    ProgressReported,
)
from ucap_pilots.events.status import (
    PilotApproved,
    PilotCancelled,
    PilotCompleted,
    PilotPutOnHold,
    PilotResumed,
    PilotStarted,
    StatusEvent,
)
from ucap_pilots.events.values import (
    Attachment,
    FundingAward,
    Indicator,
    IndicatorValue,
    Measure,
    Milestone,
    PartnerCity,
    ProgressUpdate,
    Role,
)
from ucap_shared.events import EventData

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

__all__ = [
    "PUBLISHED_EVENTS",
    "Attachment",
    "FundingAward",
    "FundingAwarded",
    "Indicator",
    "IndicatorAdded",
    "IndicatorValue",
    "Measure",
    "Milestone",
    "MilestoneAdded",
    "MilestoneCompleted",
    "PartnerCity",
    "PilotApproved",
    "PilotCancelled",
    "PilotCompleted",
    "PilotDetailsUpdated",
    "PilotEvent",
    "PilotProposed",
    "PilotPutOnHold",
    "PilotResumed",
    "PilotStarted",
    "ProgressReported",
    "ProgressUpdate",
    "Role",
    "StatusEvent",
]
