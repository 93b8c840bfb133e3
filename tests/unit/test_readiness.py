"""``/health/ready``: ready, degraded (still 200, with why) or unavailable (503); no Kafka
broker only degrades; every round sets ``ucap_health_check``."""

import socket
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.support.processes import free_port
from ucap_shared.health import Degraded, ReadinessCheck, health_router, readiness
from ucap_shared.readiness_checks import KafkaReachability, kafka_check


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


def health_state(check: str, state: str) -> float | None:
    return REGISTRY.get_sample_value(
        "ucap_health_check", {"check": check, "ucap_health_check": state}
    )


class TestHealthMetric:
    def test_each_round_sets_every_checks_state(self) -> None:
        ready({"kafka": fails, "relay": degrades, "mongodb": passes})

        assert health_state("kafka", "failing") == 1
        assert health_state("relay", "degraded") == 1
        assert health_state("relay", "ok") == 0
        assert health_state("mongodb", "ok") == 1


class TestKafkaChecks:
    async def test_no_broker_degrades_the_kafka_check_instead_of_failing_it(self) -> None:
        kafka = KafkaReachability(f"127.0.0.1:{free_port()}", timeout_seconds=2)

        outcome = await kafka_check(kafka)()

        assert isinstance(outcome, Degraded)
        assert outcome.reason.startswith("no Kafka broker answers: ")

    async def test_readiness_stays_200_while_no_broker_answers(self) -> None:
        kafka = KafkaReachability(f"127.0.0.1:{free_port()}", timeout_seconds=2)

        result = await readiness({"kafka": kafka_check(kafka), "mongodb": passes}, timeout=2)

        assert (result.status, result.failing, result.degraded) == ("degraded", [], ["kafka"])

    async def test_a_broker_that_never_answers_is_degraded_within_the_deadline(self) -> None:
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            kafka = KafkaReachability(f"127.0.0.1:{silent.getsockname()[1]}", timeout_seconds=0.5)
            result = await readiness({"kafka": kafka_check(kafka)}, timeout=0.5)

        assert (result.status, result.failing) == ("degraded", [])
