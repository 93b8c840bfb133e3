"""Pilots: the aggregate folded from its events, its rules, and commands to events.

Pure: no I/O. What the rules need to know of the world (which cities and MoUs
exist, the cities of the U-CAP a pilot names, today's date) is passed in.

- ``status``: the status state machine (actions, transitions, IATI codes);
- ``pilot``: the aggregate's state, and ``evolve``/``fold`` from events to it;
- ``references``: the checks of what a pilot refers to (SDGs, cities, MoUs, U-CAP);
- ``commands``: each command, from the state to the events it makes or a refusal.
"""

from ucap_pilots.domain.commands import (
    add_indicator,
    add_milestone,
    award_funding,
    change_status,
    complete_milestone,
    propose_pilot,
    report_progress,
    same_update,
    update_details,
    update_id_for,
)
from ucap_pilots.domain.pilot import (
    Actual,
    IndicatorState,
    MilestoneState,
    Pilot,
    RecordedUpdate,
    StatusChange,
    evolve,
    fold,
)
from ucap_pilots.domain.references import UcapCities, with_lead
from ucap_pilots.domain.status import (
    IATI_ACTIVITY_STATUS,
    OPEN,
    TRANSITIONS,
    Action,
    Status,
    allowed_actions,
)

__all__ = [
    "IATI_ACTIVITY_STATUS",
    "OPEN",
    "TRANSITIONS",
    "Action",
    "Actual",
    "IndicatorState",
    "MilestoneState",
    "Pilot",
    "RecordedUpdate",
    "Status",
    "StatusChange",
    "UcapCities",
    "add_indicator",
    "add_milestone",
    "allowed_actions",
    "award_funding",
    "change_status",
    "complete_milestone",
    "evolve",
    "fold",
    "propose_pilot",
    "report_progress",
    "same_update",
    "update_details",
    "update_id_for",
    "with_lead",
]
