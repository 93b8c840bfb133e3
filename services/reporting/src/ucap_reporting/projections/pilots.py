"""Pilots' events: this service's copy of each pilot, pushed to its U-CAP (and any it left)."""

from pydantic import BaseModel

from ucap_reporting.capacity import PILOT_COPY_BYTES
from ucap_reporting.projections.documents import (
    PILOT_INDEX_VIEW,
    UCAPS_VIEW,
    Source,
    apply_change,
    handlers_of,
    narrow,
)
from ucap_reporting.projections.organisations import pulled_by_pilot
from ucap_reporting.store import ViewStore
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import events_topic
from ucap_shared.views import Document, Outcome


class PilotPartner(BaseModel):
    model_config = narrow

    city_id: str
    role: str


class PilotProposed(EventData):
    model_config = narrow
    event_type = "ucap.pilot.proposed.v1"

    pilot_id: str
    title: str
    description: str | None = None
    lead_city_id: str
    partners: tuple[PilotPartner, ...] = ()
    stakeholder_ids: tuple[str, ...] = ()
    cluster: str | None = None
    themes: tuple[str, ...] = ()
    sdg_goals: tuple[int, ...] = ()
    sdg_targets: tuple[str, ...] = ()
    urban_agenda_themes: tuple[str, ...] = ()
    mou_ids: tuple[str, ...] = ()
    ucap_id: str | None = None


class PilotStatusChanged(EventData):
    """The shape of every status transition; one subclass per event type."""

    model_config = narrow
    event_type = "ucap.pilot.*"

    pilot_id: str
    status: str
    effective_on: PartialDate | None = None


class PilotApproved(PilotStatusChanged):
    event_type = "ucap.pilot.approved.v1"


class PilotStarted(PilotStatusChanged):
    event_type = "ucap.pilot.started.v1"


class PilotPutOnHold(PilotStatusChanged):
    event_type = "ucap.pilot.put_on_hold.v1"


class PilotResumed(PilotStatusChanged):
    event_type = "ucap.pilot.resumed.v1"


class PilotCompleted(PilotStatusChanged):
    event_type = "ucap.pilot.completed.v1"


class PilotCancelled(PilotStatusChanged):
    event_type = "ucap.pilot.cancelled.v1"


class PilotDetailsUpdated(EventData):
    """Only the changed fields are present."""

    model_config = narrow
    event_type = "ucap.pilot.details_updated.v1"

    pilot_id: str
    title: str | None = None
    description: str | None = None
    partners: tuple[PilotPartner, ...] | None = None
    stakeholder_ids: tuple[str, ...] | None = None
    cluster: str | None = None
    themes: tuple[str, ...] | None = None
    sdg_goals: tuple[int, ...] | None = None
    sdg_targets: tuple[str, ...] | None = None
    urban_agenda_themes: tuple[str, ...] | None = None
    mou_ids: tuple[str, ...] | None = None
    ucap_id: str | None = None


class Milestone(BaseModel):
    model_config = narrow

    milestone_id: str
    title: str
    planned_on: PartialDate


class PilotMilestoneAdded(EventData):
    model_config = narrow
    event_type = "ucap.pilot.milestone_added.v1"

    pilot_id: str
    milestone: Milestone


class PilotMilestoneCompleted(EventData):
    model_config = narrow
    event_type = "ucap.pilot.milestone_completed.v1"

    pilot_id: str
    milestone_id: str
    completed_on: PartialDate


class Award(BaseModel):
    model_config = narrow

    award_id: str
    funder: str
    category: str | None = None
    amount: str | None = None
    currency: str | None = None
    awarded_on: PartialDate


class PilotFundingAwarded(EventData):
    model_config = narrow
    event_type = "ucap.pilot.funding_awarded.v1"

    pilot_id: str
    award: Award


class IndicatorValue(BaseModel):
    model_config = narrow

    indicator_id: str
    value: float


class ProgressUpdate(BaseModel):
    model_config = narrow

    update_id: str
    reported_on: PartialDate
    reporting_city_id: str
    summary: str
    indicator_values: tuple[IndicatorValue, ...] = ()


class Measure(BaseModel):
    model_config = narrow

    value: float
    on: PartialDate


class Indicator(BaseModel):
    model_config = narrow

    indicator_id: str
    name: str
    unit: str
    baseline: Measure | None = None
    target: Measure | None = None


class PilotIndicatorAdded(EventData):
    model_config = narrow
    event_type = "ucap.pilot.indicator_added.v1"

    pilot_id: str
    indicator: Indicator


class PilotProgressReported(EventData):
    model_config = narrow
    event_type = "ucap.pilot.progress_reported.v1"

    pilot_id: str
    update: ProgressUpdate


STATUS_EVENTS: tuple[type[PilotStatusChanged], ...] = (
    PilotApproved,
    PilotStarted,
    PilotPutOnHold,
    PilotResumed,
    PilotCompleted,
    PilotCancelled,
)


def empty_pilot(pilot_id: str) -> Document:
    return {
        "pilot_id": pilot_id,
        "seq": 0,
        "title": None,
        "lead_city_id": None,
        "partners": [],
        "city_ids": [],
        "cluster": None,
        "themes": [],
        "sdg_goals": [],
        "mou_ids": [],
        "ucap_id": None,
        "ucap_ids_seen": [],
        "status": "proposed",
        "status_on": None,
        "milestones": [],
        "funding": [],
        "last_update": None,
        "updates_count": 0,
        "description": None,
        "stakeholder_ids": [],
        "sdg_targets": [],
        "urban_agenda_themes": [],
        "indicators": [],
        "indicator_latest": {},
    }


def _pilot_fields(pilot: Document, fields: Document) -> Document:
    new = {**pilot, **fields}
    partners = [p["city_id"] for p in new["partners"]]
    new["city_ids"] = sorted({*([new["lead_city_id"]] if new["lead_city_id"] else []), *partners})
    if new["ucap_id"]:
        new["ucap_ids_seen"] = sorted({*new["ucap_ids_seen"], new["ucap_id"]})
    return new


def _later_update(current: Document | None, new: Document) -> Document:
    """The latest update by its date; of two on one date, the one reported last."""
    if current is None or new["reported_on"] >= current["reported_on"]:
        return new
    return current


async def _existing_ucaps(views: ViewStore, pilot: Document) -> list[str]:
    # Its U-CAP, and any it left (whose copy then says it is elsewhere); only U-CAPs that
    # exist: one created later pulls its pilots. The pilot is written before this check
    # and the U-CAP before its pull, so of the two at least one sees the other.
    return [u for u in pilot["ucap_ids_seen"] if await views.present(UCAPS_VIEW, u)]


def _without_details(pilot: Document) -> Document:
    return {**pilot, "description": None, "indicators": [], "indicator_latest": {}}


PILOTS = Source(
    "pilot",
    PILOT_INDEX_VIEW,
    "pilots",
    "pilot_id",
    empty_pilot,
    _existing_ucaps,
    pulled_by_pilot,
    budget=PILOT_COPY_BYTES,
    trim=_without_details,
)
LIST_FIELDS = (
    "partners",
    "stakeholder_ids",
    "themes",
    "sdg_goals",
    "sdg_targets",
    "urban_agenda_themes",
    "mou_ids",
)


async def on_pilot_proposed(views: ViewStore, envelope: Envelope, data: PilotProposed) -> Outcome:
    fields = data.model_dump(mode="json", exclude={"pilot_id"})
    return await apply_change(views, PILOTS, envelope, lambda pilot: _pilot_fields(pilot, fields))


async def on_pilot_status_changed(
    views: ViewStore, envelope: Envelope, data: PilotStatusChanged
) -> Outcome:
    on = data.effective_on.iso() if data.effective_on else None
    return await apply_change(
        views, PILOTS, envelope, lambda pilot: {**pilot, "status": data.status, "status_on": on}
    )


async def on_pilot_details_updated(
    views: ViewStore, envelope: Envelope, data: PilotDetailsUpdated
) -> Outcome:
    fields = data.model_dump(mode="json", exclude_unset=True, exclude={"pilot_id"})
    for name in LIST_FIELDS:
        if name in fields and fields[name] is None:
            fields[name] = []
    return await apply_change(views, PILOTS, envelope, lambda pilot: _pilot_fields(pilot, fields))


async def on_pilot_milestone_added(
    views: ViewStore, envelope: Envelope, data: PilotMilestoneAdded
) -> Outcome:
    milestone = {**data.milestone.model_dump(mode="json"), "completed_on": None}

    def change(pilot: Document) -> Document:
        others = [m for m in pilot["milestones"] if m["milestone_id"] != milestone["milestone_id"]]
        return {**pilot, "milestones": [*others, milestone]}

    return await apply_change(views, PILOTS, envelope, change)


async def on_pilot_milestone_completed(
    views: ViewStore, envelope: Envelope, data: PilotMilestoneCompleted
) -> Outcome:
    def change(pilot: Document) -> Document:
        milestones = [
            {**m, "completed_on": data.completed_on.iso()}
            if m["milestone_id"] == data.milestone_id
            else m
            for m in pilot["milestones"]
        ]
        return {**pilot, "milestones": milestones}

    return await apply_change(views, PILOTS, envelope, change)


async def on_pilot_funding_awarded(
    views: ViewStore, envelope: Envelope, data: PilotFundingAwarded
) -> Outcome:
    award = data.award.model_dump(mode="json")
    return await apply_change(
        views, PILOTS, envelope, lambda pilot: {**pilot, "funding": [*pilot["funding"], award]}
    )


async def on_pilot_progress_reported(
    views: ViewStore, envelope: Envelope, data: PilotProgressReported
) -> Outcome:
    update = data.update.model_dump(mode="json", exclude={"indicator_values"})
    on = data.update.reported_on.iso()
    values = {v.indicator_id: {"value": v.value, "on": on} for v in data.update.indicator_values}

    def change(pilot: Document) -> Document:
        latest = dict(pilot.get("indicator_latest") or {})
        for indicator_id, measure in values.items():
            # The latest by reported date; of two on one date, the one reported last.
            if indicator_id not in latest or measure["on"] >= latest[indicator_id]["on"]:
                latest[indicator_id] = measure
        return {
            **pilot,
            "last_update": _later_update(pilot["last_update"], update),
            "updates_count": pilot["updates_count"] + 1,
            "indicator_latest": latest,
        }

    return await apply_change(views, PILOTS, envelope, change)


async def on_pilot_indicator_added(
    views: ViewStore, envelope: Envelope, data: PilotIndicatorAdded
) -> Outcome:
    indicator = data.indicator.model_dump(mode="json")

    def change(pilot: Document) -> Document:
        others = [
            i for i in pilot.get("indicators", []) if i["indicator_id"] != indicator["indicator_id"]
        ]
        return {**pilot, "indicators": [*others, indicator]}

    return await apply_change(views, PILOTS, envelope, change)


def pilot_handlers(views: ViewStore) -> Handlers:
    return handlers_of(
        events_topic("pilots"),
        "ucap.pilot.",
        views,
        [
            (PilotProposed, on_pilot_proposed),
            *((model, on_pilot_status_changed) for model in STATUS_EVENTS),
            (PilotDetailsUpdated, on_pilot_details_updated),
            (PilotMilestoneAdded, on_pilot_milestone_added),
            (PilotMilestoneCompleted, on_pilot_milestone_completed),
            (PilotFundingAwarded, on_pilot_funding_awarded),
            (PilotProgressReported, on_pilot_progress_reported),
            (PilotIndicatorAdded, on_pilot_indicator_added),
        ],
    )
