"""The U-CAP: its state folded from its events, its rules, and commands to events.

Pure: no I/O. A rule that fails raises before anything is appended.

Delivery moves forward only: ``draft`` -> ``delivered`` -> ``final``. Delivering
again at the same status is allowed when it brings a deliverable (a concept
note after the final U-CAP, say); going back is a conflict.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ucap_reporting.events import (
    SECTION_FIELDS,
    Activity,
    Deliverable,
    DeliveryStatus,
    Period,
    Theme,
    UcapActivityLogged,
    UcapActivityRemoved,
    UcapActivityUpdated,
    UcapCreated,
    UcapDelivered,
    UcapEvent,
    UcapSectionUpdated,
)
from ucap_shared.dates import PartialDate
from ucap_shared.problems import ConflictError, FieldProblem, InvalidInputError, NotFoundError

Loc = list[str | int]

DELIVERY_ORDER = {DeliveryStatus.DRAFT: 0, DeliveryStatus.DELIVERED: 1, DeliveryStatus.FINAL: 2}


class Ucap(BaseModel):
    """The aggregate's state after its events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ucap_id: str = Field(description="The U-CAP's id", examples=["granada-ucap"])
    title: str = Field(examples=["Granada U-CAP"])
    lead_city_id: str = Field(description="The European lead city", examples=["granada"])
    counterpart_city_ids: tuple[str, ...] = Field(
        description="Counterpart cities", examples=[["haikou", "kunming", "liuzhou", "zhengzhou"]]
    )
    period: Period | None = Field(description="Period of cooperation")
    themes: tuple[Theme, ...] = Field(description="Cooperation themes with their key focus")
    sdgs: tuple[int, ...] = Field(description="Related SDG numbers", examples=[[3, 4, 9, 11]])
    urban_agenda_themes: tuple[str, ...] = Field(description="Related EU Urban Agenda themes")
    key_challenges: tuple[str, ...] = Field(description="Key challenges of the cooperation")
    main_objectives: tuple[str, ...] = Field(description="Main objectives")
    expected_results: str | None = Field(description="Expected results and benefits")
    contact: str | None = Field(description="Whom to contact")
    deliverables: tuple[Deliverable, ...] = Field(description="What was delivered, in order")
    activities: tuple[Activity, ...] = Field(default=(), description="The timeline, by date")
    delivery_status: DeliveryStatus = Field(
        default=DeliveryStatus.DRAFT, description="draft, delivered or final"
    )
    delivered_on: PartialDate | None = Field(default=None, description="When first delivered")
    finalised_on: PartialDate | None = Field(default=None, description="When finalised")

    @property
    def city_ids(self) -> tuple[str, ...]:
        return (self.lead_city_id, *self.counterpart_city_ids)

    def activity(self, activity_id: str) -> Activity | None:
        return next((a for a in self.activities if a.activity_id == activity_id), None)


def sorted_activities(activities: Iterable[Activity]) -> tuple[Activity, ...]:
    """The timeline in date order (then id), so every fold gives the same order."""
    return tuple(sorted(activities, key=lambda a: (a.date.iso(), a.activity_id)))


# --- folding events ---------------------------------------------------------


def evolve(state: Ucap | None, event: UcapEvent) -> Ucap:
    if isinstance(event, UcapCreated):
        return Ucap(**dict(event))
    assert state is not None, f"{event.event_type} before the U-CAP was created"
    if isinstance(event, UcapSectionUpdated):
        changes: dict[str, Any] = {}
        for name in SECTION_FIELDS[event.section]:
            value = getattr(event, name)
            # A list section sent as null is an empty list.
            empty = isinstance(getattr(state, name), tuple)
            changes[name] = () if value is None and empty else value
        return state.model_copy(update=changes)
    if isinstance(event, UcapActivityLogged | UcapActivityUpdated):
        others = [a for a in state.activities if a.activity_id != event.activity.activity_id]
        return state.model_copy(update={"activities": sorted_activities([*others, event.activity])})
    if isinstance(event, UcapActivityRemoved):
        kept = tuple(a for a in state.activities if a.activity_id != event.activity_id)
        return state.model_copy(update={"activities": kept})
    changes = {"delivery_status": event.status}
    if state.delivered_on is None:
        changes["delivered_on"] = event.delivered_on
    if event.status is DeliveryStatus.FINAL and state.finalised_on is None:
        changes["finalised_on"] = event.delivered_on
    if event.deliverable is not None:
        changes["deliverables"] = (*state.deliverables, event.deliverable)
    return state.model_copy(update=changes)


def fold(events: Iterable[UcapEvent]) -> Ucap | None:
    state: Ucap | None = None
    for event in events:
        state = evolve(state, event)
    return state


# --- rules ------------------------------------------------------------------


def _content_problems(values: Mapping[str, Any], loc: Loc) -> list[FieldProblem]:
    """Problems with section content; ``values`` holds only the fields given."""
    problems: list[FieldProblem] = []
    lead = values.get("lead_city_id")
    counterparts = values.get("counterpart_city_ids")
    if counterparts is not None:
        if len(set(counterparts)) != len(counterparts):
            problems.append(
                FieldProblem(loc=[*loc, "counterpart_city_ids"], msg="a city appears twice")
            )
        if lead is not None and lead in counterparts:
            problems.append(
                FieldProblem(
                    loc=[*loc, "counterpart_city_ids"],
                    msg="the lead city is not its own counterpart",
                )
            )
    period: Period | None = values.get("period")
    if (
        period is not None
        and period.until is not None
        and period.until.last_day < period.from_.first_day
    ):
        problems.append(FieldProblem(loc=[*loc, "period", "until"], msg="ends before it starts"))
    for index, goal in enumerate(values.get("sdgs") or ()):
        if not 1 <= goal <= 17:
            problems.append(FieldProblem(loc=[*loc, "sdgs", index], msg="an SDG is 1 to 17"))
    if values.get("sdgs") is not None and len(set(values["sdgs"])) != len(values["sdgs"]):
        problems.append(FieldProblem(loc=[*loc, "sdgs"], msg="an SDG appears twice"))
    themes = values.get("themes") or ()
    titles = [theme.title for theme in themes]
    if len(set(titles)) != len(titles):
        problems.append(FieldProblem(loc=[*loc, "themes"], msg="a theme appears twice"))
    return problems


def create_ucap(existing: Ucap | None, created: UcapCreated) -> list[UcapEvent]:
    if existing is not None:
        raise ConflictError(f"U-CAP {created.ucap_id} exists", ucap_id=created.ucap_id)
    problems = _content_problems(dict(created), [])
    if problems:
        raise InvalidInputError(problems)
    return [created]


REQUIRED_FIELDS = ("title", "lead_city_id", "counterpart_city_ids")


def update_sections(ucap: Ucap, changes: Mapping[str, Any]) -> list[UcapEvent]:
    """One ``section_updated`` per section whose content ``changes`` alters.

    ``changes`` holds only the fields the caller sent; a section's missing
    fields keep their current values.
    """
    current = dict(ucap)
    merged = {**current, **changes}
    required = [
        FieldProblem(loc=[name], msg="may be changed, not removed")
        for name in REQUIRED_FIELDS
        if name in changes and changes[name] is None
    ]
    if required:
        raise InvalidInputError(required)
    problems = _content_problems(
        {name: merged[name] for name in changes if name != "title"}
        | {
            "lead_city_id": merged["lead_city_id"],
            "counterpart_city_ids": merged["counterpart_city_ids"],
        },
        [],
    )
    if problems:
        raise InvalidInputError(problems)
    events: list[UcapEvent] = []
    for section, names in SECTION_FIELDS.items():
        if not any(name in changes for name in names):
            continue
        if all(_unchanged(merged[name], current[name]) for name in names):
            continue
        content = {name: merged[name] for name in names}
        events.append(UcapSectionUpdated(ucap_id=ucap.ucap_id, section=section, **content))
    return events


def _unchanged(sent: Any, stored: Any) -> bool:  # noqa: ANN401 - any section's value
    """A null clears a list section: sent for an empty one, it changes nothing."""
    return bool(sent == stored or (sent is None and stored == ()))


def _activity_problems(activity: Activity) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for field in ("places", "city_ids", "mou_ids", "pilot_ids"):
        values = getattr(activity, field)
        if len(set(values)) != len(values):
            problems.append(FieldProblem(loc=[field], msg="a value appears twice"))
    end = activity.end_date
    if end is not None and end.last_day < activity.date.first_day:
        problems.append(FieldProblem(loc=["end_date"], msg="ends before its date"))
    return problems


def log_activity(ucap: Ucap, activity: Activity) -> list[UcapEvent]:
    if ucap.activity(activity.activity_id) is not None:
        raise ConflictError(
            f"activity {activity.activity_id} is logged already",
            ucap_id=ucap.ucap_id,
            activity_id=activity.activity_id,
        )
    problems = _activity_problems(activity)
    if problems:
        raise InvalidInputError(problems)
    return [UcapActivityLogged(ucap_id=ucap.ucap_id, activity=activity)]


def update_activity(ucap: Ucap, activity_id: str, changes: Mapping[str, Any]) -> list[UcapEvent]:
    current = ucap.activity(activity_id)
    if current is None:
        raise NotFoundError(f"no activity {activity_id} in {ucap.ucap_id}", activity_id=activity_id)
    try:
        updated = Activity.model_validate(
            {**current.model_dump(), **changes, "activity_id": activity_id}
        )
    except ValidationError as error:
        raise InvalidInputError(
            [FieldProblem(loc=[*problem["loc"]], msg=problem["msg"]) for problem in error.errors()]
        ) from error
    problems = _activity_problems(updated)
    if problems:
        raise InvalidInputError(problems)
    if updated == current:
        return []
    return [UcapActivityUpdated(ucap_id=ucap.ucap_id, activity=updated)]


def remove_activity(ucap: Ucap, activity_id: str) -> list[UcapEvent]:
    if ucap.activity(activity_id) is None:
        raise NotFoundError(f"no activity {activity_id} in {ucap.ucap_id}", activity_id=activity_id)
    return [UcapActivityRemoved(ucap_id=ucap.ucap_id, activity_id=activity_id)]


def deliver(
    ucap: Ucap,
    status: DeliveryStatus,
    delivered_on: PartialDate,
    deliverable: Deliverable | None,
) -> list[UcapEvent]:
    if status is DeliveryStatus.DRAFT:
        raise InvalidInputError([FieldProblem(loc=["status"], msg="deliver as delivered or final")])
    step = DELIVERY_ORDER[status] - DELIVERY_ORDER[ucap.delivery_status]
    if step < 0 or (step == 0 and deliverable is None):
        raise ConflictError(
            f"U-CAP {ucap.ucap_id} is {ucap.delivery_status.value}: it cannot become "
            f"{status.value}" + (" again without a deliverable" if step == 0 else ""),
            ucap_id=ucap.ucap_id,
        )
    if deliverable is not None and deliverable in ucap.deliverables:
        raise ConflictError(f"{deliverable.title} is delivered already", ucap_id=ucap.ucap_id)
    return [
        UcapDelivered(
            ucap_id=ucap.ucap_id,
            status=status,
            delivered_on=delivered_on,
            deliverable=deliverable,
        )
    ]
