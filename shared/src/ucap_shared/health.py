"""Liveness and readiness endpoints.

A readiness check is an async callable that returns when its component is
usable and raises otherwise. It may return a :class:`Degraded` instead of None:
the component serves, but something in it needs an operator (the relay has
parked a commit it cannot publish, say). ``/health/ready`` runs every check
concurrently, each within a deadline, and answers

- 200 ``ready`` when every check passed;
- 200 ``degraded`` when none failed but some are degraded: the service still
  does its work (for every other aggregate), so a load balancer keeps sending
  it requests, while ``degraded`` and ``details`` tell an operator why;
- 503 ``unavailable``, naming every failing component.

Each round also sets ``ucap_health_check{check, ucap_health_check=ok|degraded|failing}``,
so a scraper sees what a probe would (the service samples it between probes too).
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, JsonValue

from ucap_shared.metrics import HEALTH


@dataclass(frozen=True)
class Degraded:
    """A check's answer for a component that serves but needs an operator."""

    reason: str
    details: dict[str, JsonValue] = field(default_factory=dict)


ReadinessCheck = Callable[[], Awaitable[Degraded | None]]


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "unavailable"] = Field(
        description="`ready`: every check passed (200). `degraded`: none failed, some need "
        "an operator, and the service still serves (200). `unavailable`: some failed (503)."
    )
    failing: list[str] = Field(description="The checks that failed.")
    degraded: list[str] = Field(
        default_factory=list, description="The checks that passed degraded."
    )
    checks: dict[str, str] = Field(
        description="Each check's outcome: `ok`, `degraded: <why>`, or the failure."
    )
    details: dict[str, dict[str, JsonValue]] = Field(
        default_factory=dict,
        description="What each degraded check reports (the relay: `parked_commits` and "
        "the first parked commit with its error).",
    )


@dataclass(frozen=True)
class _Outcome:
    text: str
    failed: bool = False
    degraded: Degraded | None = None


async def _run_check(check: ReadinessCheck, timeout: float) -> _Outcome:
    try:
        degraded = await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return _Outcome(f"no answer within {timeout:g}s", failed=True)
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return _Outcome(text, failed=True)
    if degraded is not None:
        return _Outcome(f"degraded: {degraded.reason}", degraded=degraded)
    return _Outcome("ok")


async def readiness(checks: Mapping[str, ReadinessCheck], timeout: float) -> Readiness:
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[name], timeout) for name in names))
    outcome = dict(zip(names, results, strict=True))
    failing = [name for name, result in outcome.items() if result.failed]
    degraded = {name: result.degraded for name, result in outcome.items() if result.degraded}
    for name, result in outcome.items():
        HEALTH.labels(name).state(
            "failing" if result.failed else "degraded" if result.degraded else "ok"
        )
    return Readiness(
        status="unavailable" if failing else "degraded" if degraded else "ready",
        failing=failing,
        degraded=list(degraded),
        checks={name: result.text for name, result in outcome.items()},
        details={name: dict(found.details) for name, found in degraded.items()},
    )


def health_router(checks: Mapping[str, ReadinessCheck], timeout: float) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="The process is up and serving HTTP")
    async def live() -> Liveness:
        return Liveness()

    @router.get(
        "/ready",
        summary="Every dependency answers",
        responses={
            200: {
                "description": "Ready, or degraded: it serves, but `degraded` names what "
                "needs an operator (a load balancer keeps it)"
            },
            503: {"model": Readiness, "description": "A dependency is unavailable"},
        },
    )
    async def ready(response: Response) -> Readiness:
        result = await readiness(checks, timeout)
        if result.failing:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return result

    return router
