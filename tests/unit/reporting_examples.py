"""Example U-CAPs, activities, deliverables and envelopes for the reporting domain's unit tests."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ucap_reporting import domain
from ucap_reporting.domain import Ucap
from ucap_reporting.events import (
    Activity,
    Deliverable,
    DeliverableKind,
    DeliveryStatus,
    Period,
    Theme,
    UcapCreated,
    UcapDelivered,
    UcapEvent,
)
from ucap_shared.dates import PartialDate
from ucap_shared.envelope import Envelope

UCAP_ID = "granada-ucap"
AT = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
"""When every example event was recorded: long after the facts it carries."""


def created(**fields: object) -> UcapCreated:
    """Granada's U-CAP as created, with ``fields`` changed."""
    values: dict[str, object] = {
        "ucap_id": UCAP_ID,
        "title": "Granada U-CAP",
        "lead_city_id": "granada",
        "counterpart_city_ids": ("haikou", "kunming"),
        "period": Period.model_validate({"from": "2018-06", "until": "2020-11"}),
        "themes": (Theme(title="Smart City", key_focus="Start-ups"),),
        "sdgs": (9, 11),
        "urban_agenda_themes": ("Digital Transition",),
        "key_challenges": ("Internationalisation",),
        "main_objectives": ("Pilot projects",),
        "expected_results": "Proposals",
        "contact": "iuc@example.org",
        "deliverables": (),
        **fields,
    }
    return UcapCreated.model_validate(values)


def applied(state: Ucap | None, events: Iterable[UcapEvent]) -> Ucap:
    for event in events:
        state = domain.evolve(state, event)
    assert state is not None
    return state


def a_ucap(**fields: object) -> Ucap:
    """The U-CAP that ``created(**fields)`` leaves."""
    return domain.evolve(None, created(**fields))


def activity(activity_id: str = "a1", on: str = "2018-07", **fields: object) -> Activity:
    return Activity.model_validate(
        {"activity_id": activity_id, "date": on, "kind": "meeting", "title": "Meeting", **fields}
    )


def with_activities(*activities: Activity) -> Ucap:
    state = a_ucap()
    for each in activities:
        state = applied(state, domain.log_activity(state, each))
    return state


def deliverable(
    title: str = "U-CAP", on: str = "2020-05", kind: DeliverableKind = DeliverableKind.UCAP
) -> Deliverable:
    return Deliverable(title=title, date=PartialDate.parse(on), kind=kind)


def delivered(status: DeliveryStatus, on: str, what: Deliverable | None = None) -> UcapDelivered:
    """Delivered as ``status`` on ``on``: draft is refused by the event model itself."""
    return UcapDelivered.model_validate(
        {
            "ucap_id": UCAP_ID,
            "status": status,
            "delivered_on": PartialDate.parse(on),
            "deliverable": what,
        }
    )


def envelope(event_type: str, data: dict[str, Any], sequence: int = 1) -> Envelope:
    """An event as the store keeps it, recorded at ``AT``."""
    return Envelope(
        source="ucap/reporting",
        type=event_type,
        subject=UCAP_ID,
        time=AT,
        sequence=sequence,
        data=data,
        actor="operator:test",
    )


def recorded(event: UcapEvent, sequence: int = 1) -> Envelope:
    """``event`` in its envelope, its data as on the wire."""
    return envelope(event.event_type, event.model_dump(mode="json", by_alias=True), sequence)
