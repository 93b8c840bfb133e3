"""IATI's ActivityStatus codelist (IATI 2.03), and the code each pilot status takes.

The one table: the pilots service's answers, the reporting status and the gateway's
IATI document all read it. Closed (4) follows finalisation in IATI, once the last
transaction is made; a ucap pilot has no such step.
"""

from collections.abc import Mapping

ACTIVITY_STATUS: Mapping[int, str] = {
    1: "Pipeline/identification",
    2: "Implementation",
    3: "Finalisation",
    4: "Closed",
    5: "Cancelled",
    6: "Suspended",
}

CODE_OF_PILOT_STATUS: Mapping[str, int] = {
    "proposed": 1,
    "approved": 1,
    "in_progress": 2,
    "completed": 3,
    "cancelled": 5,
    "on_hold": 6,
}


def activity_status(pilot_status: str) -> tuple[int, str]:
    """A pilot status's ActivityStatus code and name (a status ucap does not know: 1)."""
    code = CODE_OF_PILOT_STATUS.get(pilot_status, 1)
    return code, ACTIVITY_STATUS[code]
