"""Liveness and readiness endpoints.

A readiness check is an async callable that returns when its component is
usable and raises otherwise. ``/health/ready`` runs them all concurrently,
each within a deadline, and answers 503 naming every failing component.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

ReadinessCheck = Callable[[], Awaitable[None]]


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    failing: list[str]
    checks: dict[str, str]


async def _run_check(check: ReadinessCheck, timeout: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g}s"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return "ok"


async def readiness(checks: Mapping[str, ReadinessCheck], timeout: float) -> Readiness:
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[name], timeout) for name in names))
    outcome = dict(zip(names, results, strict=True))
    failing = [name for name, result in outcome.items() if result != "ok"]
    return Readiness(status="unavailable" if failing else "ready", failing=failing, checks=outcome)


def health_router(checks: Mapping[str, ReadinessCheck], timeout: float) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="The process is up and serving HTTP")
    async def live() -> Liveness:
        return Liveness()

    @router.get(
        "/ready",
        summary="Every dependency answers",
        responses={503: {"model": Readiness, "description": "A dependency is unavailable"}},
    )
    async def ready(response: Response) -> Readiness:
        result = await readiness(checks, timeout)
        if result.failing:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return result

    return router
