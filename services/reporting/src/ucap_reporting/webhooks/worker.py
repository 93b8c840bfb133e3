"""The delivery worker: posts due deliveries, retries with backoff, dead-letters the last.

One replica works at a time: the holder of the ``webhooks`` lease (a unique insert per
epoch, ``ucap_shared.lease``), checked before every round, so two replicas do not post
the same try. A holder that stalls past its term may still finish a try it began: a
receiver may get a delivery twice, and tells by ``X-UCAP-Delivery``. The same holder
runs the overdue-milestone check.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from ucap_reporting.config import Settings
from ucap_reporting.webhooks import deliveries, subscriptions
from ucap_reporting.webhooks.addresses import EndpointRefused, destination
from ucap_reporting.webhooks.deliveries import Delivery
from ucap_reporting.webhooks.overdue import check_overdue
from ucap_reporting.webhooks.signing import signed_headers
from ucap_shared.backoff import Backoff
from ucap_shared.lease import Lease
from ucap_shared.views import Document

log = logging.getLogger(__name__)
Database = AsyncDatabase[Document]
LEASE = "webhooks"
BATCH = 100


class DeliveryError(Exception):
    """A failed try; ``final``: no later try can succeed (the subscription is gone)."""

    def __init__(self, error: str, status: int | None = None, *, final: bool = False) -> None:
        super().__init__(error)
        self.status = status
        self.final = final


def next_try(failed_tries: int, settings: Settings, now: datetime) -> datetime | None:
    """When to try again after ``failed_tries`` failures in a row; None: dead-letter it.

    The wait is drawn with full jitter up to ``first * 2 ** (failed_tries - 1)``, at most
    ``webhook_max_retry_seconds``, so retries to one endpoint that is down spread out.
    """
    if failed_tries >= settings.webhook_max_attempts:
        return None
    backoff = Backoff(settings.webhook_first_retry_seconds, settings.webhook_max_retry_seconds)
    backoff.failures = failed_tries - 1
    return now + timedelta(seconds=backoff.next_wait())


class DeliveryWorker:
    def __init__(self, database: Database, settings: Settings, client: httpx.AsyncClient) -> None:
        self.database = database
        self.settings = settings
        self.client = client
        self.lease = Lease(database["leases"], LEASE, ttl_seconds=settings.webhook_lease_seconds)
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._last_overdue_check = float("-inf")

    async def attempt(self, delivery: Delivery) -> None:
        """One try of one delivery, recorded whatever its outcome."""
        async with self._slots:
            try:
                status = await self._post(delivery)
            except DeliveryError as failure:
                await self._failed(delivery, failure)
                return
            except Exception as error:  # noqa: BLE001 - a try that broke is a failed try
                await self._failed(delivery, DeliveryError(f"{type(error).__name__}: {error}"))
                return
            await deliveries.record_success(self.database, delivery, status)

    async def _failed(self, delivery: Delivery, failure: DeliveryError) -> None:
        retry_at = (
            None
            if failure.final
            else next_try(delivery.tries + 1, self.settings, datetime.now(UTC))
        )
        await deliveries.record_failure(
            self.database, delivery, status=failure.status, error=str(failure), retry_at=retry_at
        )
        log.log(
            logging.INFO if retry_at else logging.WARNING,
            "webhook delivery failed" + ("" if retry_at else ": dead-lettered"),
            extra={"delivery_id": delivery.delivery_id, "error": str(failure)},
        )

    async def _post(self, delivery: Delivery) -> int:
        subscription = await subscriptions.find(self.database, delivery.subscription_id)
        if subscription is None:
            raise DeliveryError("the subscription was deleted", final=True)
        try:
            target = await destination(delivery.url, production=self.settings.production)
        except EndpointRefused as refused:
            raise DeliveryError(f"endpoint refused: {refused}") from refused
        body = delivery.body.encode()
        headers = signed_headers(
            subscription["secret"], delivery.delivery_id, delivery.kind, body, time.time()
        )
        headers["Host"] = target.host_header
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        # Only the status is read, never the body (a receiver could send without end), and
        # the whole try has one deadline however slowly the receiver drips its answer.
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                request = self.client.build_request(
                    "POST", target.url, content=body, headers=headers, extensions=extensions
                )
                response = await self.client.send(request, stream=True)
                await response.aclose()
        except TimeoutError as error:
            raise DeliveryError(
                f"no answer within {self.settings.webhook_timeout_seconds:g} s"
            ) from error
        except httpx.HTTPError as error:
            raise DeliveryError(f"{type(error).__name__}: {error}".rstrip(": ")) from error
        if not response.is_success:
            raise DeliveryError(
                f"the receiver answered {response.status_code}", response.status_code
            )
        return response.status_code

    async def round(self) -> int:
        """Post every due delivery once (if this replica holds the lease); how many."""
        if not await self.lease.acquire() or not await self.lease.still_held():
            return 0
        now = time.monotonic()
        if now - self._last_overdue_check >= self.settings.webhook_overdue_check_seconds:
            await check_overdue(self.database, datetime.now(UTC).date())
            self._last_overdue_check = now
        due = await deliveries.due(self.database, datetime.now(UTC), BATCH)
        outcomes = await asyncio.gather(
            *(self.attempt(delivery) for delivery in due), return_exceptions=True
        )
        for delivery, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, Exception):  # recording it failed: it is tried again
                log.warning(
                    "webhook try not recorded",
                    extra={"delivery_id": delivery.delivery_id, "error": repr(outcome)},
                )
        return len(due)

    async def run(self) -> None:
        failures = Backoff(self.settings.webhook_poll_seconds, 60.0)
        while True:
            try:
                worked = await self.round()
                failures.reset()
                if worked < BATCH:
                    await asyncio.sleep(self.settings.webhook_poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep delivering whatever failed
                log.warning(
                    "webhook round failed", extra={"error": f"{type(error).__name__}: {error}"}
                )
                await asyncio.sleep(failures.next_wait())


@contextlib.asynccontextmanager
async def delivering(database: Database, settings: Settings) -> AsyncIterator[DeliveryWorker]:
    """The worker running for as long as the context is open."""
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, trust_env=False
    ) as client:
        worker = DeliveryWorker(database, settings, client)
        task = asyncio.create_task(worker.run(), name="reporting:webhooks")
        try:
            yield worker
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await worker.lease.release()
