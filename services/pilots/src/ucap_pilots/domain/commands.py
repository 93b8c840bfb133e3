"""The pilot's commands: each takes the pilot's state and returns the events it makes.

A command that refuses raises: ``InvalidInputError`` naming every field at
fault, or ``ConflictError`` when the pilot's state forbids it (a closed pilot,
a status the action cannot leave, an id already taken). Pure: no I/O.
"""

import hashlib
from collections.abc import Set

from ucap_pilots.domain.pilot import Pilot
from ucap_pilots.domain.references import (
    Loc,
    UcapCities,
    mou_problems,
    partner_problems,
    sdg_problems,
    ucap_problems,
)
from ucap_pilots.domain.status import TRANSITIONS, Action, allowed_actions
from ucap_pilots.events import (
    FundingAward,
    FundingAwarded,
    Indicator,
    IndicatorAdded,
    Milestone,
    MilestoneAdded,
    MilestoneCompleted,
    PilotDetailsUpdated,
    PilotEvent,
    PilotProposed,
    ProgressReported,
    ProgressUpdate,
)
from ucap_shared.dates import PartialDate
from ucap_shared.problems import ConflictError, FieldProblem, InvalidInputError


def _raise_if(problems: list[FieldProblem]) -> None:
    if problems:
        raise InvalidInputError(problems)


def _refuse_when_closed(pilot: Pilot, what: str) -> None:
    if pilot.closed:
        raise ConflictError(
            f"{pilot.pilot_id} is {pilot.status}: no {what} is accepted",
            pilot_id=pilot.pilot_id,
            status=pilot.status.value,
        )


def propose_pilot(
    existing: Pilot | None,
    proposed: PilotProposed,
    known_cities: Set[str],
    known_mous: Set[str],
    ucap_cities: UcapCities = None,
) -> list[PilotEvent]:
    if existing is not None:
        raise ConflictError(f"a pilot {proposed.pilot_id} exists", pilot_id=proposed.pilot_id)
    root: Loc = []
    problems: list[FieldProblem] = []
    if not proposed.pilot_id.startswith(f"{proposed.lead_city_id}-"):
        problems.append(
            FieldProblem(
                loc=[*root, "id"],
                msg=f"a pilot's id starts with its lead city's id: {proposed.lead_city_id}-…",
            )
        )
    if proposed.lead_city_id not in known_cities:
        problems.append(
            FieldProblem(loc=[*root, "lead_city_id"], msg=f"unknown city {proposed.lead_city_id}")
        )
    problems += partner_problems(proposed.lead_city_id, proposed.partners, known_cities, root)
    problems += mou_problems(proposed.mou_ids, known_mous, root)
    problems += sdg_problems(proposed.sdg_goals, proposed.sdg_targets, root)
    problems += ucap_problems(proposed.ucap_id, proposed.lead_city_id, ucap_cities, root)
    _raise_if(problems)
    return [proposed]


def change_status(
    pilot: Pilot, action: Action, effective_on: PartialDate | None, note: str | None
) -> list[PilotEvent]:
    sources, event_model = TRANSITIONS[action]
    if pilot.status not in sources:
        allowed = [a.value for a in allowed_actions(pilot.status)]
        raise ConflictError(
            f"cannot {action.value} a pilot that is {pilot.status.value}; "
            f"allowed: {', '.join(allowed) or 'nothing (it is closed)'}",
            pilot_id=pilot.pilot_id,
            status=pilot.status.value,
            allowed=allowed,
        )
    return [event_model(pilot_id=pilot.pilot_id, effective_on=effective_on, note=note)]


def update_details(
    pilot: Pilot,
    changes: PilotDetailsUpdated,
    known_cities: Set[str],
    known_mous: Set[str],
    ucap_cities: UcapCities = None,
) -> list[PilotEvent]:
    """Only the fields that really change make the event; no change, no event."""
    _refuse_when_closed(pilot, "change of details")
    changed = {
        name: value for name, value in changes.changes().items() if getattr(pilot, name) != value
    }
    root: Loc = []
    problems: list[FieldProblem] = []
    if "partners" in changed:
        problems += partner_problems(pilot.lead_city_id, changed["partners"], known_cities, root)
    if "mou_ids" in changed:
        problems += mou_problems(changed["mou_ids"], known_mous, root)
    if "ucap_id" in changed:
        problems += ucap_problems(changed["ucap_id"], pilot.lead_city_id, ucap_cities, root)
    goals = changed.get("sdg_goals", pilot.sdg_goals)
    targets = changed.get("sdg_targets", pilot.sdg_targets)
    problems += sdg_problems(goals, targets, root)
    _raise_if(problems)
    if not changed:
        return []
    return [PilotDetailsUpdated(pilot_id=pilot.pilot_id, **changed)]


def add_milestone(pilot: Pilot, milestone: Milestone) -> list[PilotEvent]:
    _refuse_when_closed(pilot, "new milestone")
    if pilot.milestone(milestone.milestone_id) is not None:
        raise ConflictError(
            f"{pilot.pilot_id} has a milestone {milestone.milestone_id}",
            milestone_id=milestone.milestone_id,
        )
    return [MilestoneAdded(pilot_id=pilot.pilot_id, milestone=milestone)]


def complete_milestone(
    pilot: Pilot, milestone_id: str, completed_on: PartialDate
) -> list[PilotEvent]:
    _refuse_when_closed(pilot, "milestone completion")
    milestone = pilot.milestone(milestone_id)
    if milestone is None:
        raise ConflictError(
            f"{pilot.pilot_id} has no milestone {milestone_id}", milestone_id=milestone_id
        )
    if milestone.completed_on is not None:
        raise ConflictError(
            f"milestone {milestone_id} was completed on {milestone.completed_on}",
            milestone_id=milestone_id,
        )
    return [
        MilestoneCompleted(
            pilot_id=pilot.pilot_id, milestone_id=milestone_id, completed_on=completed_on
        )
    ]


def award_funding(pilot: Pilot, award: FundingAward) -> list[PilotEvent]:
    _refuse_when_closed(pilot, "funding award")
    if any(existing.award_id == award.award_id for existing in pilot.funding):
        raise ConflictError(
            f"{pilot.pilot_id} has an award {award.award_id}", award_id=award.award_id
        )
    return [FundingAwarded(pilot_id=pilot.pilot_id, award=award)]


def add_indicator(pilot: Pilot, indicator: Indicator) -> list[PilotEvent]:
    _refuse_when_closed(pilot, "new indicator")
    if pilot.indicator(indicator.indicator_id) is not None:
        raise ConflictError(
            f"{pilot.pilot_id} has an indicator {indicator.indicator_id}",
            indicator_id=indicator.indicator_id,
        )
    return [IndicatorAdded(pilot_id=pilot.pilot_id, indicator=indicator)]


def update_id_for(idempotency_key: str) -> str:
    """The update id a key always gives: a retry of one update cannot record two."""
    return "upd-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def same_update(recorded: ProgressUpdate, update: ProgressUpdate) -> bool:
    """Whether ``update`` is what ``recorded`` recorded (so a retry, not a reuse of its key)."""
    fields = recorded.model_dump(include=set(ProgressUpdate.model_fields))
    return ProgressUpdate.model_validate(fields) == update


def report_progress(pilot: Pilot, update: ProgressUpdate) -> list[PilotEvent]:
    """The update, and the completion of the milestone it reports reached, if not done yet.

    The caller checks first that the update's id is not recorded yet.
    """
    _refuse_when_closed(pilot, "progress update")
    root: Loc = []
    problems: list[FieldProblem] = []
    if update.reporting_city_id not in pilot.city_ids:
        problems.append(
            FieldProblem(
                loc=[*root, "reporting_city_id"],
                msg=f"{update.reporting_city_id} is not a city of {pilot.pilot_id}",
            )
        )
    for index, value in enumerate(update.indicator_values):
        if pilot.indicator(value.indicator_id) is None:
            problems.append(
                FieldProblem(
                    loc=[*root, "indicator_values", index, "indicator_id"],
                    msg=f"{pilot.pilot_id} has no indicator {value.indicator_id}",
                )
            )
    milestone = pilot.milestone(update.milestone_id) if update.milestone_id else None
    if update.milestone_id and milestone is None:
        problems.append(
            FieldProblem(
                loc=[*root, "milestone_id"],
                msg=f"{pilot.pilot_id} has no milestone {update.milestone_id}",
            )
        )
    _raise_if(problems)
    events: list[PilotEvent] = [ProgressReported(pilot_id=pilot.pilot_id, update=update)]
    if milestone is not None and milestone.completed_on is None:
        events.append(
            MilestoneCompleted(
                pilot_id=pilot.pilot_id,
                milestone_id=milestone.milestone_id,
                completed_on=update.reported_on,
            )
        )
    return events
