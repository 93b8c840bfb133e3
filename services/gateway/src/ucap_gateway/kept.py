"""Compiled answers the gateway keeps, compiled again when a change touches them.

Each kept answer (a U-CAP's status, a programme page) has one task of its own
that compiles it. A request is served from what is kept; only the first
request for a key waits for a compile. The task compiles again:

- after an event that touches the answer: the views behind it apply that
  event a moment after the gateway sees it. With ``holds`` (the answer says
  which events it holds), every ``settle_seconds[0]`` until it holds the
  event, for at most ``settle_seconds[-1]``; without, at each of
  ``settle_seconds`` after the last such event;
- every ``refresh_seconds`` in any case, while the answer is read or watched.

With ``recompile``, a compile after touches builds on the answer kept and
fetches again only what the touching events' kinds can change (a pilot's event:
the pilots, not every city); a refresh is such a compile with no kinds, and a
recompile that gives back the kept value itself has found nothing changed (the
snapshot stays as it is). Every ``whole_seconds`` (and after :meth:`Keeper.touch_all`)
the compile is whole all the same, so no part is older than that.

Compiles of one answer take at most half of the time: one that took 0.2 s is
not followed by the next for 0.4 s (nor ever by more than 1 s). So no kept
answer is older than ``refresh_seconds`` plus one compile, and a change its
views hold by the last settle point after its event is in it by then. An
answer nobody read or watched for ``idle_seconds`` is dropped, as is the
least recently read beyond ``capacity``.
"""

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Recompile = Callable[[K, V, frozenset[str]], Awaitable[V]]

SETTLE_SECONDS = (0.1, 0.3, 1.0, 3.0)
# Under a stream of touching events an answer is compiled again as soon as it may be:
# at most this share of the time goes to compiling it, but never less often than
# once a ``LONGEST_SPACING`` (a compile slowed by a burst of requests says little).
BUSY_SHARE = 0.5
LONGEST_SPACING = 1.0


@dataclass
class Snapshot(Generic[V]):
    """One compile's outcome: a value with its ETag, or the error to answer with."""

    value: V | None
    etag: str | None
    error: Exception | None
    version: int
    compiled_at: float
    subjects: frozenset[str] | None = None
    renderings: dict[Hashable, bytes] = field(default_factory=dict)

    def rendered(self, how: Hashable, render: Callable[[V], bytes]) -> bytes:
        """``render(value)``, made once per snapshot and format."""
        value = self.value
        assert value is not None
        return self.once(how, lambda: render(value))

    def once(self, how: Hashable, make: Callable[[], bytes]) -> bytes:
        """``make()``, made once per snapshot for ``how``."""
        if how not in self.renderings:
            self.renderings[how] = make()
        return self.renderings[how]


@dataclass
class _Entry(Generic[V]):
    first: asyncio.Event = field(default_factory=asyncio.Event)
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set, and replaced by a new one, when the snapshot's version moves."""
    snapshot: Snapshot[V] | None = None
    touched_at: float = float("-inf")
    pending: dict[str, int] = field(default_factory=dict)
    last_read: float = field(default_factory=time.monotonic)
    kinds: set[str] = field(default_factory=set)
    """The kinds of stream (``pilot``, ``city`` …) whose events touched it since its last
    compile; ``*`` for an event of no known stream."""
    settling: frozenset[str] = frozenset()
    """The kinds the last compile fetched again, fetched again while it settles."""
    whole_at: float = float("-inf")
    watchers: int = 0
    task: asyncio.Task[None] | None = None


class Keeper(Generic[K, V]):
    """Kept answers by key; see the module's docstring for when they are compiled."""

    def __init__(
        self,
        compile_: Callable[[K], Awaitable[V]],
        *,
        recompile: "Recompile[K, V] | None" = None,
        etag_of: Callable[[V], str],
        subjects_of: Callable[[K, V | None], frozenset[str]] | None = None,
        holds: Callable[[V, str, int], bool] | None = None,
        prerender: Callable[[V], dict[Hashable, bytes]] | None = None,
        refresh_seconds: float = 5.0,
        whole_seconds: float | None = None,
        settle_seconds: tuple[float, ...] = SETTLE_SECONDS,
        idle_seconds: float = 60.0,
        capacity: int = 512,
        kept_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self._compile = compile_
        self._recompile = recompile
        self._etag_of = etag_of
        self._subjects_of = subjects_of
        self._holds = holds
        self._prerender = prerender
        self.refresh_seconds = refresh_seconds
        self.whole_seconds = refresh_seconds if whole_seconds is None else whole_seconds
        self._settle = settle_seconds
        self._idle = idle_seconds
        self._capacity = capacity
        self._kept_errors = kept_errors
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: K) -> Snapshot[V]:
        """What is kept for ``key``, compiled first if nothing is."""
        entry = self._entry(key)
        entry.last_read = time.monotonic()
        await entry.first.wait()
        assert entry.snapshot is not None
        return entry.snapshot

    async def next_change(self, key: K, version: int, timeout: float) -> Snapshot[V]:
        """The snapshot once its version passes ``version``, or as it is after ``timeout``."""
        entry = self._entry(key)
        await entry.first.wait()
        assert entry.snapshot is not None
        if entry.snapshot.version <= version:
            # asyncio.timeout, not wait_for: no task of its own for each of a thousand feeds.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await entry.changed.wait()
        return entry.snapshot

    @contextlib.contextmanager
    def watching(self, key: K) -> Iterator[None]:
        """Keep ``key`` while a live feed follows it."""
        entry = self._entry(key)
        entry.watchers += 1
        try:
            yield
        finally:
            entry.watchers -= 1
            entry.last_read = time.monotonic()

    def touch(self, names: frozenset[str], stream: str = "", sequence: int = 0) -> int:
        """Mark the kept answers an event naming ``names`` touches; how many it touched.

        Without ``subjects_of`` every event touches every answer; with it, an
        answer whose subjects share a name with the event. With ``holds``, the
        event is ``sequence`` of ``stream``, and a touched answer is compiled
        again until it holds that event (or the last settle point has passed).
        """
        now = time.monotonic()
        touched = 0
        for entry in self._entries.values():
            subjects = entry.snapshot.subjects if entry.snapshot else None
            if self._subjects_of is None or subjects is None or not subjects.isdisjoint(names):
                entry.touched_at = now
                entry.kinds.add(stream.partition(":")[0] if ":" in stream else "*")
                if self._holds is not None and stream:
                    entry.pending[stream] = max(entry.pending.get(stream, 0), sequence)
                entry.woken.set()
                touched += 1
        return touched

    def touch_all(self) -> None:
        """Compile every kept answer again, whole: after events may have gone unseen."""
        now = time.monotonic()
        for entry in self._entries.values():
            entry.touched_at = now
            entry.kinds.add("*")
            entry.woken.set()

    async def close(self) -> None:
        tasks = [entry.task for entry in self._entries.values() if entry.task is not None]
        self._entries.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _entry(self, key: K) -> _Entry[V]:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry
        entry = _Entry()
        self._entries[key] = entry
        entry.task = asyncio.create_task(self._keep(key, entry), name=f"kept {key!r}")
        self._evict()
        return entry

    def _evict(self) -> None:
        for key in list(self._entries)[: max(0, len(self._entries) - self._capacity)]:
            if self._entries[key].watchers == 0:
                self._retire(key)

    def _retire(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if (
            entry is not None
            and entry.task is not None
            and entry.task is not asyncio.current_task()
        ):
            entry.task.cancel()

    async def _keep(self, key: K, entry: _Entry[V]) -> None:
        while True:
            started = time.monotonic()
            await self._compile_into(key, entry)
            spacing = min((time.monotonic() - started) / BUSY_SHARE, LONGEST_SPACING)
            earliest = started + spacing
            while True:
                entry.woken.clear()
                wait = max(self._next_compile(entry, started), earliest) - time.monotonic()
                if wait <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await entry.woken.wait()
            if entry.watchers == 0 and time.monotonic() - entry.last_read > self._idle:
                self._retire(key)
                return

    def _next_compile(self, entry: _Entry[V], last_started: float) -> float:
        """The first settle point after the last touch not yet covered, or the refresh.

        With ``holds``: soon again while an event touched it that it does not
        hold yet, until the last settle point after the touch; then the refresh.
        """
        if "*" in entry.kinds:  # a touch of no known stream, or all of them: no holds to wait on
            return max(entry.touched_at, last_started) + self._settle[0]
        if self._holds is not None:
            self._forget_held(entry)
            if entry.pending and time.monotonic() < entry.touched_at + self._settle[-1]:
                return max(entry.touched_at, last_started) + self._settle[0]
            entry.pending.clear()
            return last_started + self.refresh_seconds
        for delay in self._settle:
            due = entry.touched_at + delay
            if due > last_started:
                return due
        return last_started + self.refresh_seconds

    def _describe(
        self, key: K, value: V
    ) -> tuple[str, frozenset[str] | None, dict[Hashable, bytes]]:
        """The ETag, the subjects and the renderings made ahead of ``value``."""
        subjects = self._subjects_of(key, value) if self._subjects_of else None
        renderings = self._prerender(value) if self._prerender else {}
        return self._etag_of(value), subjects, renderings

    def _forget_held(self, entry: _Entry[V]) -> None:
        value = entry.snapshot.value if entry.snapshot else None
        if value is None or self._holds is None:
            return
        for stream, sequence in list(entry.pending.items()):
            if self._holds(value, stream, sequence):
                del entry.pending[stream]

    async def _compile_into(self, key: K, entry: _Entry[V]) -> None:
        previous = entry.snapshot
        version = previous.version if previous else 0
        # Compiled again until it holds the touching events: their kinds, fetched again.
        kinds = frozenset(entry.kinds) or (entry.settling if entry.pending else frozenset())
        started = time.monotonic()
        entry.kinds.clear()
        entry.settling = kinds
        base = previous.value if previous is not None else None
        whole = "*" in kinds or started - entry.whole_at >= self.whole_seconds
        try:
            if self._recompile is not None and base is not None and not whole:
                value = await self._recompile(key, base, kinds)
                if value is base:
                    entry.first.set()
                    return
            else:
                value = await self._compile(key)
                entry.whole_at = started
            # In a worker thread: hashing and rendering a large answer would stall every
            # request meanwhile.
            etag, subjects, renderings = await asyncio.to_thread(self._describe, key, value)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a failed compile keeps what was kept
            entry.whole_at = float("-inf")  # the next compile is whole again
            if not isinstance(error, self._kept_errors):
                log.warning("compile failed", extra={"key": repr(key), "error": repr(error)})
                if previous is not None:
                    return
            subjects = self._subjects_of(key, None) if self._subjects_of else None
            snapshot: Snapshot[V] = Snapshot(
                None, None, error, version + 1, time.monotonic(), subjects
            )
        else:
            changed = previous is None or previous.etag != etag
            snapshot = Snapshot(
                value, etag, None, version + changed, time.monotonic(), subjects, renderings
            )
        moved = previous is None or snapshot.version != previous.version
        entry.snapshot = snapshot
        if moved:
            entry.changed.set()
            entry.changed = asyncio.Event()
        entry.first.set()
