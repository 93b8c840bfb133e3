"""Stopping a service's parts one by one, none of them able to hold the shutdown."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

STOP_SECONDS = 15.0
"""How long one part (the relay, the consumer, a sampler) may take to stop."""


async def stopped(
    part: str, stop: Callable[[], Awaitable[None]], seconds: float = STOP_SECONDS
) -> bool:
    """``await stop()``, given up after ``seconds`` with a warning; whether it stopped.

    A Kafka client's ``stop()`` waits on its broker (a group to leave, offsets to commit
    on revocation, a transaction to end); a broker that never answers must not keep the
    process, or the next part, from stopping.
    """
    try:
        async with asyncio.timeout(seconds):
            await stop()
    except TimeoutError:
        log.warning("a part did not stop in time", extra={"part": part, "seconds": seconds})
        return False
    return True
