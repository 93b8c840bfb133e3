"""How large a pilot may grow, and how many pilots a U-CAP may hold: refused at the command.

MongoDB refuses a document over 16 MiB (16,777,216 bytes). Two kinds of view document
grow with a pilot's commands, and every growth is held here, where the pilot's state is
known, before anything is appended (409, naming the limit):

- **The pilot's own documents**: its snapshot (its state as one JSON string) and its
  ``pilots_view`` document (the same JSON, compressed, but for the updates sealed in
  runs and stored apart, beside its filter fields: at most 51 partners and 20 themes of
  bounded length, under 50 kB). The state, as JSON, is held to ``MAX_PILOT_BYTES``
  (8 MiB); zlib adds at most 0.1 % to bytes it cannot compress. A
  progress update is a few hundred bytes as a rule: ``MAX_UPDATES`` (2,000) of them come
  long before the byte limit, which is for updates with maximal texts.
- **Reporting's U-CAP status document** holds a copy of every pilot that ever named the
  U-CAP: its profile (title, cities, cluster, themes, SDGs, MoUs, the U-CAP ids it named,
  status, milestones, awards) and its latest progress update by date. That part of the
  pilot (:func:`copied_bytes`) is held to ``MAX_COPIED_BYTES`` (16 KiB) of JSON, and the
  pilots that ever named one U-CAP to ``MAX_PILOTS_PER_UCAP`` (500).

The arithmetic for the status document. BSON spends at most 8 bytes more than JSON on a
value (a type byte, an array index, a length and a NUL against quotes and a comma). At
the count limits (``COUNTED``) a copy holds at most about 700 values (51 cities of 2
fields, 50 MoUs, 20 themes, 17 SDGs, 10 U-CAP ids, 50 milestones of 4 fields, 20 awards
of 6, an update of 4, 20 top-level fields): 5.6 kB. Reporting also keeps the cities' ids
once more (51 ids of at most 100 characters: 5.6 kB) and a few counters (under 200
bytes). So one copy is at most 16 KiB + 11.4 kB < 28 KiB, and 500 copies at most 13.7
MiB; their entries in the document's ``_applied`` (500 stream ids of at most 106
characters) add 60 kB. The U-CAP itself is held to 256 KiB of JSON
(``ucap_reporting.capacity``: at most 0.75 MiB as BSON), which leaves about 1.5 MiB for
the copies of the U-CAP's cities and MoUs. ``tests/unit/test_view_bounds.py`` builds the
largest copies the limits allow and measures them as reporting stores them (the largest:
23 kB, with 51 cities of 100-character ids).

Proposals naming one U-CAP take turns within a process (see ``handlers``), so only
replicas racing each other can pass ``MAX_PILOTS_PER_UCAP``, by one pilot per replica.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from ucap_pilots.domain import Pilot, RecordedUpdate
from ucap_shared.bounded import BoundedMap
from ucap_shared.errors import ConflictError

A = TypeVar("A")

MAX_PARTNERS = 51
"""The lead and 50 partners, as a request may list them."""
MAX_THEMES = 20
MAX_SDG_GOALS = 17
MAX_MOUS = 50
MAX_MILESTONES = 50
MAX_AWARDS = 20
MAX_INDICATORS = 50
MAX_UPDATES = 2000
MAX_UCAPS_NAMED = 10
MAX_PILOTS_PER_UCAP = 500
MAX_PILOT_BYTES = 8 * 1024 * 1024
MAX_COPIED_BYTES = 16 * 1024

COPIED_FIELDS = frozenset(
    {
        "pilot_id",
        "title",
        "lead_city_id",
        "partners",
        "cluster",
        "themes",
        "sdg_goals",
        "mou_ids",
        "ucap_id",
        "ucaps_named",
        "status",
        "milestones",
        "funding",
    }
)
COPIED_UPDATE_FIELDS = frozenset({"update_id", "reported_on", "reporting_city_id", "summary"})

COUNTED: tuple[tuple[str, str, int], ...] = (
    ("partners", "cities", MAX_PARTNERS),
    ("themes", "themes", MAX_THEMES),
    ("sdg_goals", "SDGs", MAX_SDG_GOALS),
    ("mou_ids", "MoUs", MAX_MOUS),
    ("milestones", "milestones", MAX_MILESTONES),
    ("funding", "funding awards", MAX_AWARDS),
    ("indicators", "indicators", MAX_INDICATORS),
    ("updates", "progress updates", MAX_UPDATES),
    ("ucaps_named", "U-CAPs named", MAX_UCAPS_NAMED),
)


@dataclass(frozen=True)
class _Folded(Generic[A]):
    updates: tuple[RecordedUpdate, ...]
    value: A
    before_last: A
    """The fold over all of ``updates`` but the last."""


class _CarriedOn(Generic[A]):
    """A fold over a pilot's updates, carried on from the last updates folded for the same
    pilot when the new ones extend them, or all of them but the last: a command then
    folds the updates it adds, not the pilot's whole history. (A command measures the
    state its events would make; the state then kept holds the same events recorded a
    moment later, so its last update is another object.)"""

    def __init__(self, start: A, step: Callable[[A, RecordedUpdate], A], capacity: int) -> None:
        self._start = start
        self._step = step
        self._known: BoundedMap[str, _Folded[A]] = BoundedMap(capacity)

    def of(self, pilot: Pilot) -> A:
        updates, known = pilot.updates, self._known.get(pilot.pilot_id)
        folded, value = 0, self._start
        # Items are shared between states, so the comparisons are mostly of identities.
        if known is not None and updates[: len(known.updates)] == known.updates:
            folded, value = len(known.updates), known.value
            if folded == len(updates):
                self._known.put(pilot.pilot_id, known)
                return value
        elif (
            known is not None
            and 0 < len(known.updates) <= len(updates)
            and updates[: len(known.updates) - 1] == known.updates[:-1]
        ):
            folded, value = len(known.updates) - 1, known.before_last
        before_last = value
        for update in updates[folded:]:
            before_last, value = value, self._step(value, update)
        self._known.put(pilot.pilot_id, _Folded(updates, value, before_last))
        return value


def _later_or_same_date(latest: RecordedUpdate | None, update: RecordedUpdate) -> RecordedUpdate:
    return update if latest is None or update.reported_on >= latest.reported_on else latest


_LATEST: _CarriedOn[RecordedUpdate | None] = _CarriedOn(None, _later_or_same_date, 10_000)


def latest_update(pilot: Pilot) -> RecordedUpdate | None:
    """The latest update by date; of two on one date, the one recorded last (as copied)."""
    return _LATEST.of(pilot)


def copied_bytes(pilot: Pilot) -> int:
    """The JSON bytes of what the status of a U-CAP copies of the pilot."""
    size = len(pilot.model_dump_json(include=set(COPIED_FIELDS)).encode())
    latest = latest_update(pilot)
    if latest is not None:
        size += len(latest.model_dump_json(include=set(COPIED_UPDATE_FIELDS)).encode())
    return size


GROWING = ("updates", "indicators")
"""The pilot's lists that grow with its history: ``pilot_bytes`` measures their items once."""


class _ItemBytes:
    """The JSON bytes of items of pilots' growing lists, each measured once.

    States are immutable, and the state after an event shares every item of the one
    before it that the event left as it was, so a pilot's next state costs the new
    items only. Keyed by identity, holding each item, so no id is reused while known.
    """

    def __init__(self, capacity: int) -> None:
        self._known: BoundedMap[int, tuple[BaseModel, int]] = BoundedMap(capacity)

    def of(self, item: BaseModel) -> int:
        known = self._known.get(id(item))
        if known is not None and known[0] is item:
            return known[1]
        size = len(item.model_dump_json().encode())
        self._known.put(id(item), (item, size))
        return size


_ITEM_BYTES = _ItemBytes(capacity=100_000)
_UPDATE_BYTES: _CarriedOn[int] = _CarriedOn(
    0, lambda total, update: total + _ITEM_BYTES.of(update), 10_000
)


def pilot_bytes(pilot: Pilot) -> int:
    """``len(pilot.model_dump_json().encode())``, at a cost that does not grow with the
    pilot's history: the rest of the pilot is bounded, each item of its growing lists
    is measured once, and the updates' sizes are summed on from the state before
    (``,"updates":[a,b]`` adds the name, 4 and 2 bytes, and the commas)."""
    size = len(pilot.model_dump_json(exclude=set(GROWING)).encode())
    for field in GROWING:
        items: tuple[BaseModel, ...] = getattr(pilot, field)
        size += len(field) + 4 + 2 + max(len(items) - 1, 0)
    size += _UPDATE_BYTES.of(pilot)
    return size + sum(_ITEM_BYTES.of(indicator) for indicator in pilot.indicators)


def _refuse(pilot: Pilot, what: str, limit: int) -> None:
    raise ConflictError(
        f"{pilot.pilot_id} would hold {what}: a pilot holds at most {limit}",
        pilot_id=pilot.pilot_id,
        limit=limit,
    )


def check_growth(before: Pilot | None, after: Pilot) -> None:
    """409 when ``after`` passes a limit that ``before`` did not already pass.

    A limit that an older pilot passes already does not stop what leaves it no larger.
    """
    for field, label, limit in COUNTED:
        count = len(getattr(after, field))
        if count > limit and count > (len(getattr(before, field)) if before else 0):
            _refuse(after, f"{count} {label}", limit)
    copied = copied_bytes(after)
    if copied > MAX_COPIED_BYTES and copied > (copied_bytes(before) if before else 0):
        _refuse(after, f"{copied} bytes of profile and latest update", MAX_COPIED_BYTES)
    size = pilot_bytes(after)
    if size > MAX_PILOT_BYTES and size > (pilot_bytes(before) if before else 0):
        _refuse(after, f"{size} bytes", MAX_PILOT_BYTES)


def check_ucap_room(pilot_id: str, ucap_id: str, named_by_others: int) -> None:
    """409 when ``ucap_id`` has ``MAX_PILOTS_PER_UCAP`` pilots (ever named it) already."""
    if named_by_others >= MAX_PILOTS_PER_UCAP:
        raise ConflictError(
            f"U-CAP {ucap_id} has {named_by_others} pilots, the most one U-CAP holds: "
            f"{pilot_id} cannot join it",
            pilot_id=pilot_id,
            ucap_id=ucap_id,
            limit=MAX_PILOTS_PER_UCAP,
        )
