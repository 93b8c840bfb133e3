"""The pilot aggregate: its state, and ``evolve``/``fold`` from its events to that state.

Pure: no I/O. Replaying a pilot's events through ``fold`` gives the state every
command reads and every view stores.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from ucap_pilots.domain.status import OPEN, Status
from ucap_pilots.events import (
    FundingAward,
    FundingAwarded,
    Indicator,
    IndicatorAdded,
    MilestoneAdded,
    MilestoneCompleted,
    PartnerCity,
    PilotDetailsUpdated,
    PilotEvent,
    PilotProposed,
    ProgressReported,
    ProgressUpdate,
    StatusEvent,
)
from ucap_shared.dates import PartialDate


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
    proposed_on: PartialDate | None = None
    """When it was proposed, as the partners date it (None: when it was recorded)."""
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
