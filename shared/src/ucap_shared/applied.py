"""Which events this process has applied to its own views: the latest few thousand.

The consumer of a service's own topic delivers again each event its command
handler projected, often while that projection is still being written. Views
never move back, so an event once applied (or found applied) stays applied:
a delivery of an event this process applied, or is applying, waits for that
and is a duplicate, with no read of the document and its revision log. The
memory lives as long as the process, so a rebuild (another process, with the
views dropped) starts from nothing.
"""

import asyncio
from collections.abc import Awaitable, Callable

from ucap_shared.bounded import BoundedMap
from ucap_shared.views import Outcome

DEFAULT_CAPACITY = 10_000
Event = tuple[str, int]
"""A stream and a sequence in it."""


class AppliedEvents:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._applied: BoundedMap[Event, bool] = BoundedMap(capacity)
        self._applying: dict[Event, asyncio.Event] = {}

    async def once(
        self, event: Event, apply: Callable[[], Awaitable[Outcome | None]]
    ) -> Outcome | None:
        """``apply()`` unless this process applied ``event`` or is applying it (then wait)."""
        while (applying := self._applying.get(event)) is not None:
            await applying.wait()
        if event in self._applied:
            return Outcome.DUPLICATE
        done = self._applying[event] = asyncio.Event()
        try:
            outcome = await apply()
            self._applied.put(event, True)
            return outcome
        finally:
            del self._applying[event]
            done.set()
