"""``/health/ready``: ready, degraded (still 200, with why) or unavailable (503)."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from ucap_shared.health import Degraded, ReadinessCheck, health_router


async def passes() -> None:
    return None


async def degrades() -> Degraded:
    return Degraded("2 parked commit(s)", details={"parked_commits": 2})


async def fails() -> None:
    raise ConnectionError("no broker")


def ready(checks: dict[str, ReadinessCheck]) -> tuple[int, dict[str, Any]]:
    app = FastAPI()
    app.include_router(health_router(checks, timeout=1))
    with TestClient(app) as client:
        answer = client.get("/health/ready")
    return answer.status_code, answer.json()


class TestReadiness:
    def test_is_ready_when_every_check_passes(self) -> None:
        status, body = ready({"kafka": passes, "relay": passes})

        assert status == 200
        assert (body["status"], body["failing"], body["degraded"]) == ("ready", [], [])

    def test_is_degraded_with_200_and_the_reason_when_a_check_degrades(self) -> None:
        status, body = ready({"kafka": passes, "relay": degrades})

        assert status == 200
        assert (body["status"], body["failing"], body["degraded"]) == ("degraded", [], ["relay"])
        assert body["checks"] == {"kafka": "ok", "relay": "degraded: 2 parked commit(s)"}
        assert body["details"] == {"relay": {"parked_commits": 2}}

    def test_is_unavailable_with_503_when_a_check_fails_even_if_another_degrades(self) -> None:
        status, body = ready({"kafka": fails, "relay": degrades})

        assert status == 503
        assert (body["status"], body["failing"], body["degraded"]) == (
            "unavailable",
            ["kafka"],
            ["relay"],
        )
        assert body["checks"]["kafka"] == "ConnectionError: no broker"
