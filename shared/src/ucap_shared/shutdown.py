"""Stopping a service's parts one by one, none of them able to hold the shutdown."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

STOP_SECONDS = 15.0
"""How long one part (the relay, the consumer, a sampler) may take to stop."""
COMMIT_ON_STOP_SECONDS = 5.0
"""How long a consumer stopping may take to commit what it processed."""


async def stopped(
    part: str, stop: Callable[[], Awaitable[None]], seconds: float = STOP_SECONDS
) -> bool:
    """``await stop()``, given up after ``seconds`` with a warning; whether it stopped.

    A Kafka client's ``stop()`` waits on its broker (a group to leave, offsets to commit
    on revocation, a transaction to end); a broker that never answers must not keep the
    process, or the next part, from stopping. The stop runs as a task of its own and is
    cancelled when its time is up, whether or not it lets the cancellation through.
    """
    task = asyncio.ensure_future(stop())
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        task.result()
        return True
    task.cancel()
    log.warning("a part did not stop in time", extra={"part": part, "seconds": seconds})
    return False


CANCEL_AGAIN_SECONDS = 1.0


async def cancelled(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling it again each second it runs on.

    A cancellation can be lost: Python 3.11's ``asyncio.wait_for`` drops one that arrives
    just as its wait ends, and a loop that lost it runs on for ever, and with it whoever
    waits for it. What the task raised besides its cancellation is raised here.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_AGAIN_SECONDS)
    with contextlib.suppress(asyncio.CancelledError):
        await task
