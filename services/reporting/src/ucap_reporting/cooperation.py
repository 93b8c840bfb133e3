"""Cooperation time: which facts had happened by a day, by the dates the facts carry.

``as_of`` answers in the cooperation's own time: an event counts on a day when the
date its fact carries (an MoU signature's ``signed_on``, a pilot status change's
``effective_on``, a milestone's ``completed_on``, an award's ``awarded_on``, a progress
update's ``reported_on``, a held activity's ``date``, a delivery's ``delivered_on`` ...) is
not after that day, whoever recorded it and whenever. A partial date counts from its
first day ("2019-06" on 1 June 2019). A fact with no date (a city's name, a party added,
a milestone or an activity planned, an indicator defined, a section edited) holds on
every day (an activity planned, then updated as held, shows as planned before its
date). A signature whose date is not known is not known to have happened by any past
day (it counts from today on: it has been recorded).

A U-CAP exists from its period's start or its first dated fact (an activity held, a
delivery), whichever is earlier; with neither, on every day. Pure: no I/O.
"""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from ucap_shared.dates import PartialDate
from ucap_shared.envelope import Envelope

NEVER = date.max
"""The fact date of what is not known to have happened by any past day (a signature of
unknown date); it has happened by today and any later day."""

FactDate = Callable[[dict[str, Any]], date | None]


def _first_day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return PartialDate.parse(value).first_day
    except ValueError:
        return None  # the handler refuses it; the replay skips it then


def _at(*path: str) -> FactDate:
    def fact_date(data: dict[str, Any]) -> date | None:
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return _first_day(value)

    return fact_date


def _activity_date(data: dict[str, Any]) -> date | None:
    """A held (cancelled, postponed) activity counts from its date; a planned one is a
    plan, which holds on every day, like a milestone planned."""
    activity = data.get("activity")
    if not isinstance(activity, dict) or activity.get("status") == "planned":
        return None
    return _first_day(activity.get("date"))


def _signed_on(data: dict[str, Any]) -> date | None:
    return NEVER if data.get("signed_on") is None else _first_day(data["signed_on"])


FACT_DATES: dict[str, FactDate] = {
    "ucap.ucap.activity_logged.v1": _activity_date,
    "ucap.ucap.activity_updated.v1": _activity_date,
    "ucap.ucap.delivered.v1": _at("delivered_on"),
    "ucap.mou.drafted.v1": _at("drafted_on"),
    "ucap.mou.signed.v1": _signed_on,
    "ucap.mou.terminated.v1": _at("terminated_on"),
    "ucap.mou.expired.v1": _at("expired_on"),
    "ucap.mou.amended.v1": _at("amended_on"),
    "ucap.pilot.proposed.v1": _at("proposed_on"),
    "ucap.pilot.approved.v1": _at("effective_on"),
    "ucap.pilot.started.v1": _at("effective_on"),
    "ucap.pilot.put_on_hold.v1": _at("effective_on"),
    "ucap.pilot.resumed.v1": _at("effective_on"),
    "ucap.pilot.completed.v1": _at("effective_on"),
    "ucap.pilot.cancelled.v1": _at("effective_on"),
    "ucap.pilot.milestone_completed.v1": _at("completed_on"),
    "ucap.pilot.funding_awarded.v1": _at("award", "awarded_on"),
    "ucap.pilot.progress_reported.v1": _at("update", "reported_on"),
}
"""Per event type, the date its fact carries; a type not listed carries none."""

CREATED = "ucap.ucap.created.v1"


def fact_date(envelope: Envelope) -> date | None:
    """The date ``envelope``'s fact carries; None: it holds on every day."""
    found = FACT_DATES.get(envelope.type)
    return found(envelope.data) if found is not None else None


def known_by(envelope: Envelope, day: date, *, past: bool) -> bool:
    """Whether ``envelope``'s fact had happened by the end of ``day`` (``past``: a day
    before today)."""
    on = fact_date(envelope)
    if on is None:
        return True
    if on == NEVER:
        return not past
    return on <= day


def created_on(envelopes: Iterable[Envelope]) -> date | None:
    """When a U-CAP began: its period's start or its first dated fact, the earlier."""
    days: list[date] = []
    for envelope in envelopes:
        if envelope.type == CREATED:
            start = _at("period", "from")(envelope.data)
            days += [start] if start is not None else []
        elif (on := fact_date(envelope)) is not None and on != NEVER:
            days.append(on)
    return min(days) if days else None


def own_events_by(envelopes: list[Envelope], day: date, *, past: bool) -> list[Envelope]:
    """A U-CAP's events whose facts had happened by ``day`` (none if the U-CAP had not
    begun), numbered again 1, 2, 3 ... as the projections apply a U-CAP's events."""
    begun = created_on(envelopes)
    if not envelopes or (begun is not None and begun > day):
        return []
    kept = [e for e in envelopes if e.type == CREATED or known_by(e, day, past=past)]
    return [e.model_copy(update={"sequence": n}) for n, e in enumerate(kept, start=1)]
