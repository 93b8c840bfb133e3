"""A service's readiness checks: what stops it serving, and what only degrades it.

MongoDB holds the event store and every view: without it no request can be
answered, so its check fails and ``/health/ready`` is 503. Kafka is only where
published events go and other services' events come from: while it is down, a
write still succeeds (the event store is the outbox) and a read still answers
from the views, so the ``kafka``, ``relay`` and ``consumer`` checks report
*degraded* with why, and the service stays in rotation (200). An orchestrator
so keeps every replica serving through a broker outage.
"""

import asyncio
import time
from collections.abc import Callable

from ucap_shared.consumer import ConsumerRunner
from ucap_shared.health import Degraded, ReadinessCheck
from ucap_shared.kafka import ping_kafka
from ucap_shared.mongo import MongoClient, ping_mongo
from ucap_shared.relay import Relay

KAFKA_ANSWER_REUSED_SECONDS = 1.0


class KafkaReachability:
    """Whether a broker answers; one ping serves every check of a readiness round.

    The ping has half the readiness deadline: a broker that does not answer in
    time is *unreachable* (degraded), never a check that timed out (failed).
    """

    def __init__(self, bootstrap_servers: str, *, timeout_seconds: float) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout = timeout_seconds / 2
        self._ping: asyncio.Task[str | None] | None = None
        self._pinged_at = 0.0

    async def problem(self) -> str | None:
        """None when a broker answers; otherwise what went wrong."""
        now = time.monotonic()
        stale = now - self._pinged_at > KAFKA_ANSWER_REUSED_SECONDS
        if self._ping is None or (self._ping.done() and stale):
            self._ping, self._pinged_at = asyncio.ensure_future(self._pinged()), now
        return await asyncio.shield(self._ping)

    async def _pinged(self) -> str | None:
        try:
            await asyncio.wait_for(
                ping_kafka(self._bootstrap, timeout_ms=int(self._timeout * 1000)), self._timeout
            )
        except TimeoutError:
            return f"no broker answered within {self._timeout:g}s"
        except Exception as error:  # noqa: BLE001 - any failure means unreachable
            return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return None


def mongodb_check(client: MongoClient) -> ReadinessCheck:
    async def check() -> None:
        await ping_mongo(client)

    return check


def kafka_check(kafka: KafkaReachability) -> ReadinessCheck:
    async def check() -> Degraded | None:
        problem = await kafka.problem()
        if problem is None:
            return None
        return Degraded(f"no Kafka broker answers: {problem}", details={"error": problem})

    return check


def relay_check(
    relay: Relay, kafka: KafkaReachability, backlog: Callable[[], int | None]
) -> ReadinessCheck:
    """Fails only when the relay task died; degraded while it cannot publish (the commits
    wait in the outbox; ``backlog``: their number as last sampled) or holds parked ones."""

    async def check() -> Degraded | None:
        parked = await relay.check()
        problem = await kafka.problem() or relay.last_error
        if problem is None:
            return parked
        waiting = backlog()
        return Degraded(
            f"cannot publish, retrying: {problem}; writes are kept in the outbox"
            + ("" if waiting is None else f" ({waiting} commit(s) waiting)"),
            details={
                **(parked.details if parked else {}),
                "error": problem,
                "backlog": waiting,
            },
        )

    return check


def consumer_check(consumer: ConsumerRunner, kafka: KafkaReachability) -> ReadinessCheck:
    """Fails only when the consumer task died; degraded while it cannot read Kafka."""

    async def check() -> Degraded | None:
        await consumer.check()
        problem = await kafka.problem() or consumer.last_error
        if problem is None:
            return None
        return Degraded(
            f"not consuming, retrying: {problem}; views answer as of the last event applied",
            details={"error": problem},
        )

    return check
