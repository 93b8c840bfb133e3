"""A pilot's progress updates in the pilots service's views: sealed in runs as they fill.

A pilot gains an update with nearly every command it sees, and its ``pilots_view``
document is written again on each of them. Were the document to hold every update,
each write would cost more the longer the pilot's history: dumped and compressed in
the service, converted and stored by the server (on FerretDB, a document of 300
updates took twice as long to replace as a new pilot's). So the document holds only
the updates after the last *sealed run*:

- every run of ``UPDATES_PER_RUN`` updates, once full, is sealed: inserted once, as
  compressed JSON, into ``pilot_update_runs`` (``<pilot id>|<run>``), never changed;
- the pilot's document counts the runs sealed before its own updates (``sealed_runs``).

A run is inserted before any document leaves it out, so a reader always finds every
run a document counts; a run is a function of the pilot's events alone, so two writers
sealing one insert the same document, and the second's duplicate is ignored. Updates
are only ever appended, and no projection reads the ones before, so the view writer
folds each event on the document's own updates alone.
"""

import contextlib
import zlib
from collections.abc import Sequence
from typing import Any

from bson import Binary
from pydantic import TypeAdapter
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ucap_pilots.domain import RecordedUpdate
from ucap_shared.bounded import BoundedMap

UPDATES_PER_RUN = 50
RUNS = "pilot_update_runs"
SEALED_RUNS = "sealed_runs"

Document = dict[str, Any]
Database = AsyncDatabase[Document]

_UPDATES: TypeAdapter[tuple[RecordedUpdate, ...]] = TypeAdapter(tuple[RecordedUpdate, ...])


class MissingRunError(RuntimeError):
    """A pilot's document counts a sealed run that is not stored (a view to rebuild)."""


def full_runs(updates: Sequence[RecordedUpdate]) -> int:
    return len(updates) // UPDATES_PER_RUN


def run_id(pilot_id: str, run: int) -> str:
    return f"{pilot_id}|{run}"


def run_document(pilot_id: str, run: int, updates: Sequence[RecordedUpdate]) -> Document:
    return {
        "_id": run_id(pilot_id, run),
        "pilot_id": pilot_id,
        "run": run,
        "updates_z": Binary(zlib.compress(_UPDATES.dump_json(tuple(updates)), 1)),
    }


class RunSealer:
    """Seals the full runs of a pilot's updates, remembering which it stored already."""

    def __init__(self, database: Database, capacity: int = 10_000) -> None:
        self._runs = database[RUNS]
        self._stored: BoundedMap[str, bool] = BoundedMap(capacity)

    async def seal(self, pilot_id: str, sealed: int, updates: Sequence[RecordedUpdate]) -> int:
        """Store the full runs of ``updates`` (the updates after ``sealed`` runs); how many."""
        runs = full_runs(updates)
        for index in range(runs):
            stored_id = run_id(pilot_id, sealed + index)
            if stored_id in self._stored:
                continue
            run = updates[index * UPDATES_PER_RUN : (index + 1) * UPDATES_PER_RUN]
            # Sealed by another writer already: the same updates, so the same document.
            with contextlib.suppress(DuplicateKeyError):
                await self._runs.insert_one(run_document(pilot_id, sealed + index, run))
            self._stored.put(stored_id, True)
        return runs


async def sealed_updates(
    database: Database, pilot_id: str, sealed: int
) -> tuple[RecordedUpdate, ...]:
    """The updates of a pilot's first ``sealed`` runs, in order."""
    if sealed == 0:
        return ()
    found = {doc["run"]: doc async for doc in database[RUNS].find({"pilot_id": pilot_id})}
    missing = [run for run in range(sealed) if run not in found]
    if missing:
        raise MissingRunError(f"{pilot_id}: sealed runs {missing} are not stored")
    return tuple(
        update
        for run in range(sealed)
        for update in _UPDATES.validate_json(zlib.decompress(found[run]["updates_z"]))
    )


async def create_indexes(database: Database) -> None:
    await database[RUNS].create_index([("pilot_id", ASCENDING)])
