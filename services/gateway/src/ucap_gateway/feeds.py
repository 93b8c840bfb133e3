"""How many live feeds may be open, and whether a feed's key still holds.

A feed counts against its API key and against the gateway's total; beyond
either bound a new feed is refused with 429. An open feed asks every few
seconds whether its key is still valid; the answer for a key is read from the
key store at most once per check interval, however many feeds share the key
(and ask at once).
"""

from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import HTTPException, status

from ucap_gateway.shared_reads import SharedReads


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
        self._open: Counter[str] = Counter()
        self._is_active = is_active
        self._checks = SharedReads(interval=check_seconds)

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
            self._checks.forget(key_id)

    async def still_active(self, key_id: str) -> bool:
        """Whether the key still holds: as last read within the check interval, or read
        now, once for all of its feeds that ask meanwhile (a change wakes them together)."""
        return await self._checks.get(key_id, partial(self._is_active, key_id))


def _refused(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"{detail}; close one or try again later",
        headers={"Retry-After": "30"},
    )
