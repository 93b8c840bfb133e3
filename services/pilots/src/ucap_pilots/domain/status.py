"""A pilot's status and the state machine that moves it::

    proposed -approve-> approved -start-> in_progress -complete-> completed
    approved | in_progress -hold-> on_hold -resume-> in_progress
    any open status -cancel-> cancelled

``completed`` and ``cancelled`` are closed: a closed pilot takes no more changes.
"""

from enum import StrEnum

from ucap_pilots.events import (
    PilotApproved,
    PilotCancelled,
    PilotCompleted,
    PilotPutOnHold,
    PilotResumed,
    PilotStarted,
    StatusEvent,
)
from ucap_shared import iati


class Status(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN = frozenset({Status.PROPOSED, Status.APPROVED, Status.IN_PROGRESS, Status.ON_HOLD})


class Action(StrEnum):
    APPROVE = "approve"
    START = "start"
    HOLD = "hold"
    RESUME = "resume"
    COMPLETE = "complete"
    CANCEL = "cancel"


TRANSITIONS: dict[Action, tuple[frozenset[Status], type[StatusEvent]]] = {
    Action.APPROVE: (frozenset({Status.PROPOSED}), PilotApproved),
    Action.START: (frozenset({Status.APPROVED}), PilotStarted),
    Action.HOLD: (frozenset({Status.APPROVED, Status.IN_PROGRESS}), PilotPutOnHold),
    Action.RESUME: (frozenset({Status.ON_HOLD}), PilotResumed),
    Action.COMPLETE: (frozenset({Status.IN_PROGRESS}), PilotCompleted),
    Action.CANCEL: (OPEN, PilotCancelled),
}

IATI_ACTIVITY_STATUS: dict[Status, tuple[int, str]] = {
    status: iati.activity_status(status.value) for status in Status
}
"""Our status -> IATI activity status code and name (``ucap_shared.iati``)."""


def allowed_actions(status: Status) -> list[Action]:
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]
