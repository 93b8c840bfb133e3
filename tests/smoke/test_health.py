"""Every service answers its health endpoints over real HTTP: ready while it can serve
(Kafka down only degrades it), unavailable (503) without MongoDB."""

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

import ucap_infra
from tests.support.auth import bearer
from tests.support.infra import ferretdb_of_its_own
from tests.support.processes import free_port, run_service
from tests.support.waiting import polled

SERVICES = ["cities", "mous", "pilots", "reporting", "gateway"]
CITY = {
    "id": "kept-in-the-outbox",
    "name": "Haikou",
    "native_name": "海口",
    "region": "Hainan",
    "country": "CN",
    "world_region": "Asia",
    "population": {"known": False},
    "clusters": ["Smart City"],
}


@pytest.mark.parametrize("name", SERVICES)
class TestHealthEndpoints:
    def test_live_and_ready_answer_200(
        self, name: str, service_env: dict[str, str], log_dir: Path
    ) -> None:
        with run_service(name, service_env, log_dir) as service:
            live = httpx.get(f"{service.url}/health/live")
            ready = httpx.get(f"{service.url}/health/ready", timeout=10)

        assert live.status_code == 200
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks["kafka"] == checks["mongodb"] == "ok"
        assert set(checks.values()) == {"ok"}


class TestReadiness:
    def test_stays_ready_with_the_relay_degraded_while_no_broker_answers(
        self, service_env: dict[str, str], log_dir: Path
    ) -> None:
        unique = uuid.uuid4().hex[:10]
        metrics_port = free_port()
        env = {
            **service_env,
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "UCAP_CITIES_DATABASE": f"ucap_cities_nokafka_{unique}",
            "UCAP_CITIES_METRICS_PORT": str(metrics_port),
            "UCAP_METRICS_SAMPLE_SECONDS": "0.5",
        }
        with run_service("cities", env, log_dir) as service:
            written = httpx.post(
                f"{service.url}/cities", json=CITY, headers=bearer("cities"), timeout=10
            )
            ready = _poll(
                f"{service.url}/health/ready",
                lambda answer: "(1 commit(s) waiting)" in answer.text,
            )
            scrape = _poll(
                f"http://127.0.0.1:{metrics_port}/metrics",
                lambda answer: 'ucap_relay_backlog{service="ucap/cities"} 1.0' in answer.text,
            ).text
        mongo: MongoClient[dict[str, object]]
        with MongoClient(service_env["MONGODB_URI"]) as mongo:
            mongo.drop_database(env["UCAP_CITIES_DATABASE"])

        assert written.status_code == 201, "a write succeeds: the outbox keeps it"
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert (body["status"], body["failing"]) == ("degraded", [])
        assert set(body["degraded"]) == {"kafka", "relay", "consumer"}
        assert body["checks"]["mongodb"] == "ok"
        assert body["details"]["relay"]["backlog"] == 1
        assert 'ucap_health_check{check="relay",ucap_health_check="degraded"} 1.0' in scrape
        assert 'ucap_health_check{check="mongodb",ucap_health_check="ok"} 1.0' in scrape

    @pytest.fixture
    def own_ferretdb(self, tmp_path: Path) -> Iterator[ucap_infra.FerretDBServer]:
        """A FerretDB process of this test's own, on the local PostgreSQL: stopping it
        disturbs nothing else."""
        server = asyncio.run(ferretdb_of_its_own(tmp_path.name))
        yield server
        server.process.stop()

    def test_turns_503_when_mongodb_stops_and_200_when_it_is_back(
        self,
        own_ferretdb: ucap_infra.FerretDBServer,
        service_env: dict[str, str],
        log_dir: Path,
    ) -> None:
        own_ferretdb.start()
        # A database no other FerretDB process writes: each keeps its own picture of it.
        env = {
            **service_env,
            "MONGODB_URI": own_ferretdb.uri,
            "UCAP_CITIES_DATABASE": f"ucap_cities_own_ferretdb_{uuid.uuid4().hex[:10]}",
        }
        with run_service("cities", env, log_dir) as service:
            ready_url = f"{service.url}/health/ready"
            assert _poll_status(ready_url, 200).status_code == 200

            own_ferretdb.process.stop()
            down = _poll_status(ready_url, 503)
            assert down.status_code == 503
            assert down.json()["failing"] == ["mongodb"]

            own_ferretdb.start()
            assert _poll_status(ready_url, 200).status_code == 200


def _poll_status(url: str, wanted: int, timeout: float = 30.0) -> httpx.Response:
    """GET ``url`` until it answers ``wanted`` or the deadline passes; the last answer."""
    return _poll(url, lambda answer: answer.status_code == wanted, timeout)


def _poll(
    url: str, done: Callable[[httpx.Response], bool], timeout: float = 30.0
) -> httpx.Response:
    """GET ``url`` until ``done`` holds of the answer or the deadline passes; the last answer."""
    return polled(lambda: httpx.get(url, timeout=10), done, timeout=timeout)
