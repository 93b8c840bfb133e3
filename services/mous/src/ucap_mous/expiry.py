"""The scheduled expiry check: a background task of the running service."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from ucap_mous.handlers import check_expiries
from ucap_shared.app import ServiceRuntime

log = logging.getLogger(__name__)


async def run_expiry_checks(runtime: ServiceRuntime, every_seconds: float) -> None:
    """Check at once, then every ``every_seconds``; a failed check is logged and retried."""
    while True:
        try:
            expired = await check_expiries(runtime)
            if expired:
                log.info("recorded MoU expiries", extra={"mou_ids": expired})
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - keep checking whatever failed
            log.warning("expiry check failed", extra={"error": f"{type(error).__name__}: {error}"})
        await asyncio.sleep(every_seconds)


@contextlib.asynccontextmanager
async def expiry_checks(runtime: ServiceRuntime, every_seconds: float) -> AsyncIterator[None]:
    task = asyncio.create_task(run_expiry_checks(runtime, every_seconds), name="mous:expiry")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
