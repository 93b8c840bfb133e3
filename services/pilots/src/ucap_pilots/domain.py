"""Pilots: the aggregate folded from its events, its rules, and commands to events.

Pure: no I/O. What the rules need to know of the world (which cities and MoUs
exist, the cities of the U-CAP a pilot names, today's date) is passed in.

The status follows an explicit state machine::

    proposed -approve-> approved -start-> in_progress -complete-> completed
    approved | in_progress -hold-> on_hold -resume-> in_progress
    any open status -cancel-> cancelled

``completed`` and ``cancelled`` are closed: a closed pilot takes no more changes.
"""

import hashlib
from collections.abc import Iterable, Set
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from ucap_pilots.events import (
    FundingAward,
    FundingAwarded,
    Indicator,
    IndicatorAdded,
    Milestone,
    MilestoneAdded,
    MilestoneCompleted,
    PartnerCity,
    PilotApproved,
    PilotCancelled,
    PilotCompleted,
    PilotDetailsUpdated,
    PilotEvent,
    PilotProposed,
    PilotPutOnHold,
    PilotResumed,
    PilotStarted,
    ProgressReported,
    ProgressUpdate,
    Role,
    StatusEvent,
)
from ucap_shared.dates import PartialDate
from ucap_shared.errors import ConflictError, FieldProblem, InvalidInputError

Loc = list[str | int]


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
    Status.PROPOSED: (1, "Pipeline/identification"),
    Status.APPROVED: (1, "Pipeline/identification"),
    Status.IN_PROGRESS: (2, "Implementation"),
    Status.COMPLETED: (3, "Finalisation"),
    Status.CANCELLED: (5, "Cancelled"),
    Status.ON_HOLD: (6, "Suspended"),
}
"""Our status -> IATI activity status code and name (4, Closed, is not reached by ucap)."""


def allowed_actions(status: Status) -> list[Action]:
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


# --- state ------------------------------------------------------------------


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status
    effective_on: PartialDate | None
    note: str | None
    recorded_at: datetime


class MilestoneState(BaseModel):
    model_config = ConfigDict(frozen=True)

    milestone_id: str
    title: str
    planned_on: PartialDate
    completed_on: PartialDate | None = None

    def overdue_on(self, today: date) -> bool:
        """Its planned date has wholly passed and it is not done."""
        return self.completed_on is None and self.planned_on.last_day < today


class RecordedUpdate(ProgressUpdate):
    model_config = ConfigDict(frozen=True, extra="ignore")

    recorded_at: datetime


class Actual(BaseModel):
    """One measured value of an indicator, from a progress update."""

    model_config = ConfigDict(frozen=True)

    value: float
    on: PartialDate
    update_id: str


class IndicatorState(Indicator):
    model_config = ConfigDict(frozen=True, extra="ignore")

    actuals: tuple[Actual, ...] = ()


class Pilot(BaseModel):
    """The aggregate's state after its events."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    pilot_id: str
    title: str
    description: str
    lead_city_id: str
    partners: tuple[PartnerCity, ...]
    stakeholder_ids: tuple[str, ...]
    cluster: str | None
    themes: tuple[str, ...]
    sdg_goals: tuple[int, ...]
    sdg_targets: tuple[str, ...]
    urban_agenda_themes: tuple[str, ...]
    mou_ids: tuple[str, ...]
    ucap_id: str | None
    ucaps_named: tuple[str, ...] = ()
    """Every U-CAP the pilot ever named: reporting keeps a copy of it in each one's status."""
    status: Status = Status.PROPOSED
    status_changes: tuple[StatusChange, ...] = ()
    milestones: tuple[MilestoneState, ...] = ()
    funding: tuple[FundingAward, ...] = ()
    updates: tuple[RecordedUpdate, ...] = ()
    indicators: tuple[IndicatorState, ...] = ()
    proposed_at: datetime
    updated_at: datetime
    last_progress_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _named_before_it_was_kept(cls, data: Any) -> Any:  # noqa: ANN401 - any input
        """A state stored before ``ucaps_named`` was kept names at least its U-CAP."""
        if isinstance(data, dict) and "ucaps_named" not in data and data.get("ucap_id"):
            return {**data, "ucaps_named": (data["ucap_id"],)}
        return data

    @property
    def city_ids(self) -> list[str]:
        return [partner.city_id for partner in self.partners]

    @property
    def closed(self) -> bool:
        return self.status not in OPEN

    def milestone(self, milestone_id: str) -> MilestoneState | None:
        return next((m for m in self.milestones if m.milestone_id == milestone_id), None)

    def update(self, update_id: str) -> RecordedUpdate | None:
        return next((u for u in self.updates if u.update_id == update_id), None)

    def indicator(self, indicator_id: str) -> IndicatorState | None:
        return next((i for i in self.indicators if i.indicator_id == indicator_id), None)

    def overdue_milestones(self, today: date) -> list[MilestoneState]:
        """None for a cancelled pilot: its milestones will never be done."""
        if self.status is Status.CANCELLED:
            return []
        return [m for m in self.milestones if m.overdue_on(today)]

    def days_since_last_update(self, today: date) -> int | None:
        """Days since the last progress update was recorded; None before the first."""
        if self.last_progress_at is None:
            return None
        return (today - self.last_progress_at.date()).days


# --- evolving ----------------------------------------------------------------


def _replace(items: tuple[Any, ...], key: str, value: str, new: Any) -> tuple[Any, ...]:  # noqa: ANN401
    return tuple(new if getattr(item, key) == value else item for item in items)


def evolve(state: Pilot | None, event: PilotEvent, at: datetime) -> Pilot:
    """The state after ``event``, recorded at ``at``."""
    if isinstance(event, PilotProposed):
        fields = event.model_dump(exclude={"pilot_id"})
        named = (event.ucap_id,) if event.ucap_id else ()
        return Pilot(
            pilot_id=event.pilot_id, **fields, ucaps_named=named, proposed_at=at, updated_at=at
        )
    if state is None:
        raise ValueError(f"{event.event_type} before the pilot was proposed")
    changes: dict[str, Any] = {"updated_at": at}
    if isinstance(event, StatusEvent):
        status = Status(event.status)
        change = StatusChange(
            status=status, effective_on=event.effective_on, note=event.note, recorded_at=at
        )
        changes |= {"status": status, "status_changes": (*state.status_changes, change)}
    elif isinstance(event, PilotDetailsUpdated):
        changes |= event.changes()
        if event.ucap_id and event.ucap_id not in state.ucaps_named:
            changes["ucaps_named"] = (*state.ucaps_named, event.ucap_id)
    elif isinstance(event, MilestoneAdded):
        milestone = MilestoneState(**event.milestone.model_dump())
        changes["milestones"] = (*state.milestones, milestone)
    elif isinstance(event, MilestoneCompleted):
        found = state.milestone(event.milestone_id)
        if found is not None:
            done = found.model_copy(update={"completed_on": event.completed_on})
            changes["milestones"] = _replace(
                state.milestones, "milestone_id", event.milestone_id, done
            )
    elif isinstance(event, FundingAwarded):
        changes["funding"] = (*state.funding, event.award)
    elif isinstance(event, IndicatorAdded):
        changes["indicators"] = (*state.indicators, IndicatorState(**event.indicator.model_dump()))
    elif isinstance(event, ProgressReported):
        update = event.update
        recorded = RecordedUpdate(**update.model_dump(), recorded_at=at)
        indicators = state.indicators
        for value in update.indicator_values:
            found_indicator = state.indicator(value.indicator_id)
            if found_indicator is None:
                continue
            actual = Actual(value=value.value, on=update.reported_on, update_id=update.update_id)
            indicators = _replace(
                indicators,
                "indicator_id",
                value.indicator_id,
                found_indicator.model_copy(update={"actuals": (*found_indicator.actuals, actual)}),
            )
            state = state.model_copy(update={"indicators": indicators})
        changes |= {
            "updates": (*state.updates, recorded),
            "indicators": indicators,
            "last_progress_at": at,
        }
    return state.model_copy(update=changes)


def fold(events: Iterable[tuple[PilotEvent, datetime]]) -> Pilot | None:
    state: Pilot | None = None
    for event, at in events:
        state = evolve(state, event, at)
    return state


# --- rules shared by proposing and editing -----------------------------------


def _sdg_problems(goals: Iterable[int], targets: Iterable[str], loc: Loc) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    goal_set = set(goals)
    for index, target in enumerate(targets):
        goal = int(target.split(".")[0])
        if goal not in goal_set:
            problems.append(
                FieldProblem(
                    loc=[*loc, "sdg_targets", index],
                    msg=f"target {target} belongs to SDG {goal}, which is not in sdg_goals",
                )
            )
    return problems


def _partner_problems(
    lead_city_id: str, partners: Iterable[PartnerCity], known_cities: Set[str], loc: Loc
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    leads = 0
    for index, partner in enumerate(partners):
        here: Loc = [*loc, "partners", index]
        if partner.city_id in seen:
            problems.append(FieldProblem(loc=[*here, "city_id"], msg="city listed twice"))
        seen.add(partner.city_id)
        if partner.role is Role.LEAD:
            leads += 1
            if partner.city_id != lead_city_id:
                problems.append(
                    FieldProblem(
                        loc=[*here, "role"], msg=f"only the lead city {lead_city_id} is lead"
                    )
                )
        if partner.city_id not in known_cities and partner.city_id != lead_city_id:
            problems.append(
                FieldProblem(loc=[*here, "city_id"], msg=f"unknown city {partner.city_id}")
            )
    if lead_city_id not in seen or leads == 0:
        problems.append(
            FieldProblem(
                loc=[*loc, "partners"], msg=f"the lead city {lead_city_id} must be listed as lead"
            )
        )
    return problems


def _mou_problems(mou_ids: Iterable[str], known_mous: Set[str], loc: Loc) -> list[FieldProblem]:
    return [
        FieldProblem(loc=[*loc, "mou_ids", index], msg=f"unknown MoU {mou_id}")
        for index, mou_id in enumerate(mou_ids)
        if mou_id not in known_mous
    ]


UcapCities = Set[str] | None
"""The lead and counterpart cities of a U-CAP as this service knows it; None: unknown."""


def _ucap_problems(
    ucap_id: str | None, lead_city_id: str, cities: UcapCities, loc: Loc
) -> list[FieldProblem]:
    """A pilot names only a U-CAP its lead city takes part in (as lead or counterpart)."""
    if ucap_id is None:
        return []
    here: Loc = [*loc, "ucap_id"]
    if cities is None:
        return [
            FieldProblem(
                loc=here,
                msg=f"unknown U-CAP {ucap_id}: the pilots service learns U-CAPs from "
                "reporting's events, so one created a moment ago may not be known yet; retry",
            )
        ]
    if lead_city_id not in cities:
        return [
            FieldProblem(
                loc=here,
                msg=f"{lead_city_id} is neither the lead nor a counterpart city of U-CAP "
                f"{ucap_id}: a pilot names only a U-CAP its lead city takes part in",
            )
        ]
    return []


def with_lead(lead_city_id: str, partners: Iterable[PartnerCity]) -> tuple[PartnerCity, ...]:
    """The partners, and the lead city last as ``lead`` when the caller left it out.

    Last, so the positions of the caller's own entries stay those of its request.
    """
    listed = tuple(partners)
    if any(partner.city_id == lead_city_id for partner in listed):
        return listed
    return (*listed, PartnerCity(city_id=lead_city_id, role=Role.LEAD))


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


# --- commands -----------------------------------------------------------------


def propose_pilot(
    existing: Pilot | None,
    proposed: PilotProposed,
    known_cities: Set[str],
    known_mous: Set[str],
    ucap_cities: UcapCities = None,
) -> list[PilotEvent]:
    if existing is not None:
        raise ConflictError(f"a pilot {proposed.pilot_id} exists", pilot_id=proposed.pilot_id)
    body: Loc = ["body"]
    problems: list[FieldProblem] = []
    if not proposed.pilot_id.startswith(f"{proposed.lead_city_id}-"):
        problems.append(
            FieldProblem(
                loc=[*body, "id"],
                msg=f"a pilot's id starts with its lead city's id: {proposed.lead_city_id}-…",
            )
        )
    if proposed.lead_city_id not in known_cities:
        problems.append(
            FieldProblem(loc=[*body, "lead_city_id"], msg=f"unknown city {proposed.lead_city_id}")
        )
    problems += _partner_problems(proposed.lead_city_id, proposed.partners, known_cities, body)
    problems += _mou_problems(proposed.mou_ids, known_mous, body)
    problems += _sdg_problems(proposed.sdg_goals, proposed.sdg_targets, body)
    problems += _ucap_problems(proposed.ucap_id, proposed.lead_city_id, ucap_cities, body)
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
    body: Loc = ["body"]
    problems: list[FieldProblem] = []
    if "partners" in changed:
        problems += _partner_problems(pilot.lead_city_id, changed["partners"], known_cities, body)
    if "mou_ids" in changed:
        problems += _mou_problems(changed["mou_ids"], known_mous, body)
    if "ucap_id" in changed:
        problems += _ucap_problems(changed["ucap_id"], pilot.lead_city_id, ucap_cities, body)
    goals = changed.get("sdg_goals", pilot.sdg_goals)
    targets = changed.get("sdg_targets", pilot.sdg_targets)
    problems += _sdg_problems(goals, targets, body)
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
    body: Loc = ["body"]
    problems: list[FieldProblem] = []
    if update.reporting_city_id not in pilot.city_ids:
        problems.append(
            FieldProblem(
                loc=[*body, "reporting_city_id"],
                msg=f"{update.reporting_city_id} is not a city of {pilot.pilot_id}",
            )
        )
    for index, value in enumerate(update.indicator_values):
        if pilot.indicator(value.indicator_id) is None:
            problems.append(
                FieldProblem(
                    loc=[*body, "indicator_values", index, "indicator_id"],
                    msg=f"{pilot.pilot_id} has no indicator {value.indicator_id}",
                )
            )
    milestone = pilot.milestone(update.milestone_id) if update.milestone_id else None
    if update.milestone_id and milestone is None:
        problems.append(
            FieldProblem(
                loc=[*body, "milestone_id"],
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
