"""Answers read at most once an interval per name, one read shared by every caller."""

import asyncio
import time
from collections.abc import Awaitable, Callable


class SharedReads:
    """An answer per name, kept ``interval`` seconds; callers that ask while its read is
    under way share that one read (a change that wakes a thousand feeds makes one read,
    not a thousand)."""

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._read_at: dict[str, tuple[float, bool]] = {}
        self._reading: dict[str, asyncio.Future[bool]] = {}

    async def get(self, name: str, read: Callable[[], Awaitable[bool]]) -> bool:
        """The answer kept for ``name``, else ``read()``'s, shared by whoever asks meanwhile."""
        now = time.monotonic()
        kept = self._read_at.get(name)
        if kept is not None and now - kept[0] < self.interval:
            return kept[1]
        reading = self._reading.get(name)
        if reading is None:
            reading = asyncio.ensure_future(self._read_now(name, now, read))
            self._reading[name] = reading
        # Shielded: a caller that goes away must not cancel the others' read.
        return await asyncio.shield(reading)

    def forget(self, name: str) -> None:
        self._read_at.pop(name, None)

    async def _read_now(self, name: str, now: float, read: Callable[[], Awaitable[bool]]) -> bool:
        try:
            answer = await read()
            self._read_at[name] = (now, answer)
            return answer
        finally:
            self._reading.pop(name, None)
