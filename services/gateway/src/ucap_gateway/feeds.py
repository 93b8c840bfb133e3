"""How many live feeds may be open, and whether a feed's key still holds.

A feed counts against its API key and against the gateway's total; beyond
either bound a new feed is refused with 429. An open feed asks every few
seconds whether its key is still valid; the answer for a key is read from the
key store at most once per check interval, however many feeds share the key
(and ask at once).
"""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, status


class FeedGate:
    def __init__(
        self,
        *,
        per_key: int,
        total: int,
        is_active: Callable[[str], Awaitable[bool]],
        check_seconds: float,
    ) -> None:
        self.per_key = per_key
        self.total = total
        self.check_seconds = check_seconds
        self._is_active = is_active
        self._open: Counter[str] = Counter()
        self._checked: dict[str, tuple[float, bool]] = {}
        self._reading: dict[str, asyncio.Future[bool]] = {}

    @property
    def open_feeds(self) -> int:
        return sum(self._open.values())

    def admit(self, key_id: str) -> None:
        """Count a new feed of ``key_id``; HTTP 429 beyond either bound."""
        if self._open[key_id] >= self.per_key:
            raise _refused(f"this API key has {self.per_key} live feeds open, the most allowed")
        if self.open_feeds >= self.total:
            raise _refused(f"the gateway has {self.total} live feeds open, the most it serves")
        self._open[key_id] += 1

    def release(self, key_id: str) -> None:
        self._open[key_id] -= 1
        if self._open[key_id] <= 0:
            del self._open[key_id]
            self._checked.pop(key_id, None)

    async def still_active(self, key_id: str) -> bool:
        """Whether the key still holds: as last read within the check interval, or read
        now, once for all of its feeds that ask meanwhile (a change wakes them together)."""
        now = time.monotonic()
        checked = self._checked.get(key_id)
        if checked is not None and now - checked[0] < self.check_seconds:
            return checked[1]
        reading = self._reading.get(key_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read(key_id, now))
            self._reading[key_id] = reading
        # Shielded: a feed that closes while it waits must not cancel the others' read.
        return await asyncio.shield(reading)

    async def _read(self, key_id: str, now: float) -> bool:
        try:
            active = await self._is_active(key_id)
            self._checked[key_id] = (now, active)
            return active
        finally:
            self._reading.pop(key_id, None)


def _refused(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"{detail}; close one or try again later",
        headers={"Retry-After": "30"},
    )
