"""Waits between tries, with full jitter.

Every replica of every service loses Kafka at the same moment when it goes down; with
fixed exponential waits they would all reconnect in the same instants when it returns.
Each wait here is drawn uniformly between zero and the exponential bound ("full
jitter"), so their tries spread out over the whole window.

``Backoff`` serves the loops that run until something fails and then start over (the
relay, the consumers, the gateway's live feed): the bound grows with each failure in a
row and a success resets it. ``bounded_retries`` serves a step tried a few times before
giving up (a handler before its record is dead-lettered, a refused commit before it is
parked): tenacity's ``AsyncRetrying`` with the same jittered waits.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)


class Backoff:
    """Full-jitter exponential waits for a loop that fails, waits and starts over.

    The n-th failure in a row waits a time drawn uniformly from
    ``[0, min(most, first * 2 ** (n - 1))]``; ``reset()`` after a success.
    """

    def __init__(self, first: float, most: float, *, rng: random.Random | None = None) -> None:
        if not 0 < first <= most:
            raise ValueError(f"need 0 < first <= most, got {first} and {most}")
        self.first = first
        self.most = most
        self.failures = 0
        self._rng = rng or random.Random()  # noqa: S311 - spreading retries, not secrets

    def bound(self) -> float:
        """The longest the next wait can be."""
        return min(self.most, self.first * 2.0 ** max(self.failures - 1, 0))

    def next_wait(self) -> float:
        """Count one more failure and draw how long to wait before the next try."""
        self.failures += 1
        return self._rng.uniform(0, self.bound())

    def reset(self) -> None:
        self.failures = 0


def bounded_retries(
    *,
    attempts: int,
    first: float,
    most: float,
    on: type[BaseException] | tuple[type[BaseException], ...] = Exception,
    before_sleep: Callable[[RetryCallState], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncRetrying:
    """Try up to ``attempts`` times while the step raises ``on``, waiting with full jitter
    (uniform in ``[0, min(most, first * 2 ** (n - 1))]``); then the last error is raised.

    Use as ``async for attempt in bounded_retries(...): with attempt: ...``.
    """
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=first, max=most),
        retry=retry_if_exception_type(on),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
