"""The columns of every spreadsheet answer, and the rows the JSON answers give.

Column names are part of the API (README, "Spreadsheets"): a new column may be
added at the end of a table, none is renamed, moved or dropped. Lists are
joined with ``; ``; yes-or-no values are ``true`` or ``false``, as in JSON.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from ucap_gateway.compose import CompiledStatus
from ucap_gateway.reported import City, Pilot
from ucap_gateway.spreadsheets import Cell, Row, Sheet, csv_bytes, xlsx_bytes

Document = dict[str, Any]
T = TypeVar("T")
SEPARATOR = "; "
PILOT_STATUSES = ("proposed", "approved", "in_progress", "on_hold", "completed", "cancelled")


class Columns(Generic[T]):
    """Named columns, each read from one item of type ``T``."""

    def __init__(self, *columns: tuple[str, Callable[[T], Cell]]) -> None:
        self.names = tuple(name for name, _ in columns)
        self._reads = tuple(read for _, read in columns)

    def row(self, item: T) -> Row:
        return [read(item) for read in self._reads]

    def rows(self, items: Iterable[T]) -> Iterator[Row]:
        return (self.row(item) for item in items)


def joined(values: Iterable[object] | None) -> str:
    return SEPARATOR.join(str(value) for value in values or ())


def yes_no(value: object) -> str:
    return "true" if value else "false"


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _by_status(status: str) -> Callable[[Document], Cell]:
    return lambda counts: int(counts.get("pilots_by_status", {}).get(status, 0))


# --- the programme: one row per U-CAP ----------------------------------------

SHARE_UPDATED = "share_pilots_updated_90_days"


def _in_figures(read: Callable[[Document], Cell]) -> Callable[[Document], Cell]:
    return lambda row: read(row["figures"])


def _figure(*path: str) -> Callable[[Document], Cell]:
    def read(row: Document) -> Cell:
        value: Any = row["figures"]
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        return value if isinstance(value, int | float) else None

    return read


PROGRAMME = Columns[Document](
    ("ucap_id", lambda u: u["ucap_id"]),
    ("title", lambda u: u.get("title")),
    ("lead_city_id", lambda u: u.get("lead_city_id")),
    ("pilots", _figure("pilots")),
    *((f"pilots_{s}", _in_figures(_by_status(s))) for s in PILOT_STATUSES),
    ("mous", _figure("mous")),
    ("mous_signed", _figure("mous_signed")),
    ("milestones_done", _figure("milestones", "done")),
    ("milestones_due", _figure("milestones", "due")),
    ("milestones_overdue", _figure("milestones", "overdue")),
    (SHARE_UPDATED, _in_figures(lambda f: _share(f.get(SHARE_UPDATED)))),
    ("stale_pilots", lambda u: len(u.get("flags", {}).get("stale_pilots", []))),
    ("expiring_mous", lambda u: len(u.get("flags", {}).get("expiring_mous", []))),
)
PROGRAMME_GROUP = Columns[Document](
    ("key", lambda g: g["key"]),
    ("ucaps", lambda g: g.get("ucaps")),
    ("pilots", lambda g: g.get("pilots")),
    *((f"pilots_{s}", _by_status(s)) for s in PILOT_STATUSES),
    ("mous", lambda g: g.get("mous")),
    ("mous_signed", lambda g: g.get("mous_signed")),
    ("overdue_milestones", lambda g: g.get("overdue_milestones")),
    ("stale_pilots", lambda g: g.get("stale_pilots")),
    ("expiring_mous", lambda g: g.get("expiring_mous")),
)
PROGRAMME_GROUPS = ("by_cluster", "by_theme", "by_sdg", "by_country")


def programme_sheets(programme: Document) -> list[Sheet]:
    """The U-CAPs (the CSV answer, and the XLSX's first sheet), then the counts by group."""
    ucaps = Sheet("ucaps", PROGRAMME.names, PROGRAMME.rows(programme.get("ucaps", [])))
    groups = [
        Sheet(name, PROGRAMME_GROUP.names, PROGRAMME_GROUP.rows(programme.get(name, [])))
        for name in PROGRAMME_GROUPS
    ]
    return [ucaps, *groups]


# --- a U-CAP's status: one row per pilot under each counterpart city ----------

PilotUnder = tuple[str, City | None, Pilot, Document]
"""The U-CAP, the counterpart city the pilot is shown under (none: all cities), the
pilot as reporting has it, and as the pilots service has it (empty: unavailable)."""


def _update(read: Callable[[Any], Cell]) -> Callable[[PilotUnder], Cell]:
    return lambda item: read(item[2].last_update) if item[2].last_update else None


STATUS_PILOTS = Columns[PilotUnder](
    ("ucap_id", lambda i: i[0]),
    ("counterpart_city_id", lambda i: i[1].city_id if i[1] else None),
    ("counterpart_city_name", lambda i: i[1].name if i[1] else None),
    ("pilot_id", lambda i: i[2].pilot_id),
    ("title", lambda i: i[2].title),
    ("lead_city_id", lambda i: i[3].get("lead_city_id")),
    ("status", lambda i: i[2].status),
    ("iati_status_code", lambda i: i[2].iati_status.code),
    ("iati_status_name", lambda i: i[2].iati_status.name),
    ("cluster", lambda i: i[3].get("cluster")),
    ("themes", lambda i: joined(i[3].get("themes"))),
    ("milestones_done", lambda i: i[2].milestone_counts.done),
    ("milestones_due", lambda i: i[2].milestone_counts.due),
    ("milestones_overdue", lambda i: i[2].milestone_counts.overdue),
    ("funding_awards", lambda i: len(i[2].funding)),
    ("stale", lambda i: yes_no(i[2].stale)),
    ("last_update_reported_on", _update(lambda u: u.reported_on)),
    ("last_update_reporting_city_id", _update(lambda u: u.reporting_city_id)),
    ("last_update_summary", _update(lambda u: u.summary)),
    ("description", lambda i: i[3].get("description")),
)
STATUS_MILESTONES = Columns[tuple[str, Any]](
    ("pilot_id", lambda m: m[0]),
    ("title", lambda m: m[1].title),
    ("planned_on", lambda m: m[1].planned_on),
    ("completed_on", lambda m: m[1].completed_on),
    ("state", lambda m: m[1].state),
)
STATUS_ACTIVITIES = Columns[Any](
    ("date", lambda a: a.date),
    ("kind", lambda a: a.kind),
    ("ordinal", lambda a: a.ordinal),
    ("title", lambda a: a.title),
    ("outcome", lambda a: a.outcome),
    ("end_date", lambda a: a.end_date),
    ("status", lambda a: a.status),
)
STATUS_MOUS = Columns[tuple[str, Any]](
    ("counterpart_city_id", lambda m: m[0]),
    ("mou_id", lambda m: m[1].mou_id),
    ("title", lambda m: m[1].title),
    ("status", lambda m: m[1].status),
    ("signed_on", lambda m: m[1].signed_on),
)


def pilots_under(compiled: CompiledStatus) -> list[PilotUnder]:
    """Each pilot under each counterpart city it is shown under; first those of no one city."""
    details, ucap_id = compiled.details.pilots, compiled.ucap_id
    found: list[PilotUnder] = [
        (ucap_id, None, pilot, details.get(pilot.pilot_id, {}))
        for pilot in compiled.status.other_pilots
    ]
    for counterpart in compiled.status.counterparts:
        found.extend(
            (ucap_id, counterpart.city, pilot, details.get(pilot.pilot_id, {}))
            for pilot in counterpart.pilots
        )
    return found


def status_sheets(compiled: CompiledStatus) -> list[Sheet]:
    """The pilots (the CSV answer, and the XLSX's first sheet), then each pilot's
    milestones, the U-CAP's activities and the MoUs under each counterpart city."""
    pilots = pilots_under(compiled)
    once = {item[2].pilot_id: item[2] for item in pilots}
    milestones = [(pilot_id, m) for pilot_id, p in once.items() for m in p.milestones]
    mous = [
        (counterpart.city.city_id, mou)
        for counterpart in compiled.status.counterparts
        for mou in counterpart.mous
    ]
    return [
        Sheet("pilots", STATUS_PILOTS.names, STATUS_PILOTS.rows(pilots)),
        Sheet("milestones", STATUS_MILESTONES.names, STATUS_MILESTONES.rows(milestones)),
        Sheet(
            "activities",
            STATUS_ACTIVITIES.names,
            STATUS_ACTIVITIES.rows(compiled.status.ucap.activities),
        ),
        Sheet("mous", STATUS_MOUS.names, STATUS_MOUS.rows(mous)),
    ]


# --- the pilots list: one row per pilot ---------------------------------------


def latest_update(pilot: Document) -> Document | None:
    """The latest update by its date; of two on one date, the one recorded last (as the
    U-CAP status has it)."""
    latest: Document | None = None
    for update in pilot.get("updates") or []:
        if latest is None or str(update.get("reported_on")) >= str(latest.get("reported_on")):
            latest = update
    return latest


def _latest(field: str) -> Callable[[Document], Cell]:
    def read(pilot: Document) -> Cell:
        update = latest_update(pilot)
        return None if update is None else update.get(field)

    return read


def _partners(pilot: Document) -> str:
    return joined(f"{p['city_id']} ({p['role']})" for p in pilot.get("partners") or [])


def _milestones(pilot: Document, state: str | None = None) -> int:
    return sum(1 for m in pilot.get("milestones") or [] if state is None or m["status"] == state)


PILOTS = Columns[Document](
    ("pilot_id", lambda p: p["id"]),
    ("title", lambda p: p.get("title")),
    ("lead_city_id", lambda p: p.get("lead_city_id")),
    ("partners", _partners),
    ("ucap_id", lambda p: p.get("ucap_id")),
    ("cluster", lambda p: p.get("cluster")),
    ("themes", lambda p: joined(p.get("themes"))),
    ("sdg_goals", lambda p: joined(p.get("sdg_goals"))),
    ("sdg_targets", lambda p: joined(p.get("sdg_targets"))),
    ("urban_agenda_themes", lambda p: joined(p.get("urban_agenda_themes"))),
    ("mou_ids", lambda p: joined(p.get("mou_ids"))),
    ("status", lambda p: p.get("status")),
    ("iati_status_code", lambda p: (p.get("iati_status") or {}).get("code")),
    ("iati_status_name", lambda p: (p.get("iati_status") or {}).get("name")),
    ("milestones", _milestones),
    ("milestones_done", lambda p: _milestones(p, "done")),
    ("milestones_overdue", lambda p: _milestones(p, "overdue")),
    ("funding_awards", lambda p: len(p.get("funding") or [])),
    ("last_update_reported_on", _latest("reported_on")),
    ("last_update_reporting_city_id", _latest("reporting_city_id")),
    ("last_update_summary", _latest("summary")),
    ("days_since_last_update", lambda p: p.get("days_since_last_update")),
    ("proposed_at", lambda p: p.get("proposed_at")),
    ("updated_at", lambda p: p.get("updated_at")),
    ("description", lambda p: p.get("description")),
)


def pilot_rows(items: Sequence[Document]) -> Iterator[Row]:
    return PILOTS.rows(items)


# --- the renderings of the kept answers ---------------------------------------


def programme_csv(programme: Document) -> bytes:
    return csv_bytes(programme_sheets(programme)[0])


def programme_xlsx(programme: Document) -> bytes:
    return xlsx_bytes(programme_sheets(programme))


def status_csv(compiled: CompiledStatus) -> bytes:
    return csv_bytes(status_sheets(compiled)[0])


def status_xlsx(compiled: CompiledStatus) -> bytes:
    return xlsx_bytes(status_sheets(compiled))
