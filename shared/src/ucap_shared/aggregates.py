"""Loading an aggregate for a command: its snapshot by id, then only the commits after it.

A snapshot is the aggregate's state at a version, kept in the service's
``snapshots`` collection and replaced by ``_id`` once ``SNAPSHOT_EVERY`` events
have been folded on top of the one stored. Two writers may replace it in either
order, so a snapshot can be older than another one written before it: harmless,
since any snapshot is a state the aggregate really had and the commits after it
are read as well. So a command reads one snapshot, the commits since it (fewer
than ``SNAPSHOT_EVERY``) and one read that finds nothing, whatever the length of
the aggregate's history or the size of the store.

Each process also remembers the states it loaded or committed last (``REMEMBERED``
of them): a command on one of those starts from there instead of the snapshot,
and still reads every commit after it, so what another replica appended is
folded in just the same. States are immutable (frozen models), so one
remembered state is safe to hand to every command.

The state is kept as its JSON, compressed, in one binary field, not as a nested
document: nothing queries inside a snapshot, and a server that converts every field
of a document on each read and write (FerretDB does) then handles one field however
large the state, of about a tenth of its JSON's bytes. (Snapshots kept earlier hold the
JSON as a string, ``state``, and are read as they are.)

A commit whose events include one larger than ``MAX_EVENT_BYTES`` of JSON is refused
(413) before anything is appended: the relay could not publish it to Kafka, and every
later event of its aggregate would wait behind it.
"""

import contextlib
import hashlib
import json
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bson import Binary
from pydantic import TypeAdapter, ValidationError
from pymongo.errors import DuplicateKeyError

from ucap_shared.bounds import MAX_EVENT_BYTES
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.eventstore import EventStore
from ucap_shared.problems import EventTooLargeError

if TYPE_CHECKING:
    from ucap_shared.app import ServiceRuntime

S = TypeVar("S")
Document = dict[str, Any]
SNAPSHOTS = "snapshots"
SNAPSHOT_EVERY = 16
STATE_Z = "state_z"
"""The state's JSON, compressed: a tenth of the bytes for the server to store and return."""
REMEMBERED = 1024


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """The aggregate as its events leave it (None: it has none) and its version."""

    state: S | None
    version: int
    newer: list[Envelope]
    """The events folded on top of the snapshot."""


@dataclass(frozen=True)
class _Known(Generic[S]):
    state: S | None
    version: int
    saved: int
    """The version of the newest snapshot this process read or wrote."""


class Aggregates(Generic[S]):
    """How one kind of aggregate is folded and kept as snapshots; holds no client."""

    def __init__(
        self, state_type: type[S], evolve: Callable[[S | None, Envelope], S], *, kind: str
    ) -> None:
        self._adapter: TypeAdapter[S] = TypeAdapter(state_type)
        self._evolve = evolve
        shape = json.dumps(self._adapter.json_schema(), sort_keys=True).encode()
        # A snapshot of another shape of the model is not read: the fold starts over.
        self._kind = f"{kind}:json:{hashlib.sha256(shape).hexdigest()[:16]}"
        self._known: OrderedDict[tuple[str, str], _Known[S]] = OrderedDict()

    async def load(self, store: EventStore, aggregate_id: str) -> Loaded[S]:
        known = self._recall(store, aggregate_id)
        if known is None:
            state, version = await self._snapshot(store, aggregate_id)
            known = _Known(state, version, saved=version)
        state, version = known.state, known.version
        newer = await store.load_after(aggregate_id, version)
        for envelope in newer:
            state = self._evolve(state, envelope)
        if newer:
            version = newer[-1].sequence
        await self._keep(store, aggregate_id, state, version, known.saved)
        return Loaded(state, version, newer)

    def remembered(self, store: EventStore, aggregate_id: str) -> Loaded[S] | None:
        """The state this process loaded or committed last, unchecked: another replica may
        have appended since, and then appending after it fails (``ConcurrencyConflict``).

        None for an aggregate remembered as absent: another replica may have created it
        since, and a command refused as "not found" would append nothing that could fail.
        """
        known = self._recall(store, aggregate_id)
        if known is None or known.state is None:
            return None
        return Loaded(known.state, known.version, [])

    def _recall(self, store: EventStore, aggregate_id: str) -> _Known[S] | None:
        key = (store.database.name, aggregate_id)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
        return known

    async def _keep(
        self, store: EventStore, aggregate_id: str, state: S | None, version: int, saved: int
    ) -> None:
        """Remember the state, and snapshot it once enough events were folded on top of one."""
        if version - saved >= SNAPSHOT_EVERY:
            await self._save(store, aggregate_id, state, version)
            saved = version
        self._known[(store.database.name, aggregate_id)] = _Known(state, version, saved)
        self._known.move_to_end((store.database.name, aggregate_id))
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)

    async def _snapshot(self, store: EventStore, aggregate_id: str) -> tuple[S | None, int]:
        found = await store.database[SNAPSHOTS].find_one({"_id": aggregate_id})
        if found is None or found.get("kind") != self._kind:
            return None, 0
        try:
            return self._adapter.validate_json(_state_json(found)), int(found["version"])
        except (ValidationError, KeyError, zlib.error):
            return None, 0  # written by another shape of the model: fold from the start

    async def _save(
        self, store: EventStore, aggregate_id: str, state: S | None, version: int
    ) -> None:
        if state is None:
            return
        document = {
            "_id": aggregate_id,
            "kind": self._kind,
            "version": version,
            STATE_Z: Binary(zlib.compress(self._adapter.dump_json(state), 1)),
        }
        # Two first snapshots of one aggregate may both try to insert it.
        with contextlib.suppress(DuplicateKeyError):
            await store.database[SNAPSHOTS].replace_one(
                {"_id": aggregate_id}, document, upsert=True
            )


def _state_json(snapshot: Document) -> bytes | str:
    """The snapshot's state as JSON: compressed, or a string as snapshots were once kept."""
    if STATE_Z in snapshot:
        return zlib.decompress(snapshot[STATE_Z])
    text: str = snapshot["state"]
    return text


def check_event_sizes(
    aggregate_id: str, events: Sequence[EventData], limit: int = MAX_EVENT_BYTES
) -> None:
    """Raise ``EventTooLargeError`` for the first event whose data is over ``limit`` bytes of
    JSON: what the store keeps and the relay publishes, less the envelope's few fields."""
    for event in events:
        size = len(event.model_dump_json().encode())
        if size > limit:
            raise EventTooLargeError(
                f"{event.event_type} of {aggregate_id} would hold {size} bytes, more than "
                f"the {limit} an event may: send less at once",
                event_type=event.event_type,
                size_bytes=size,
                limit_bytes=limit,
            )


@dataclass(frozen=True)
class Committed(Generic[S]):
    state: S | None
    envelopes: list[Envelope]


class AggregateCommits(Aggregates[S]):
    """Load and commit: the own views and the snapshot follow every append."""

    async def load_current(self, runtime: "ServiceRuntime", aggregate_id: str) -> Loaded[S]:
        """The aggregate, with the own views brought up to it.

        Commits after the snapshot are those of a writer that died before it
        projected (or saved the snapshot): they are projected here, so what a
        command answers, a replayed one included, is in the views.
        """
        loaded = await self.load(runtime.store, aggregate_id)
        if loaded.newer:
            await runtime.project_own(loaded.newer)
        return loaded

    async def commit(
        self,
        runtime: "ServiceRuntime",
        aggregate_id: str,
        loaded: Loaded[S],
        events: Sequence[EventData],
        *,
        actor: str,
        causation_id: str | None = None,
    ) -> Committed[S]:
        """Append ``events`` after ``loaded``; raises ``ConcurrencyConflict`` when it is stale,
        ``EventTooLargeError`` (appending nothing) when one of them is too large.
        ``causation_id``: the id of the event they follow from, if another event caused them."""
        if not events:
            return Committed(loaded.state, [])
        check_event_sizes(aggregate_id, events)
        envelopes = await runtime.store.append(
            aggregate_id, loaded.version, events, actor=actor, causation_id=causation_id
        )
        await runtime.project_own(envelopes)
        state = loaded.state
        for envelope in envelopes:
            state = self._evolve(state, envelope)
        known = self._recall(runtime.store, aggregate_id)
        saved = known.saved if known is not None else loaded.version
        await self._keep(runtime.store, aggregate_id, state, envelopes[-1].sequence, saved)
        return Committed(state, envelopes)
