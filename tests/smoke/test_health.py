"""Every service answers its health endpoints over real HTTP."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import ucap_infra
from tests.support.processes import free_port, run_service

SERVICES = ["cities", "mous", "pilots", "reporting", "gateway"]


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
    def test_names_kafka_when_no_broker_answers(
        self, service_env: dict[str, str], log_dir: Path
    ) -> None:
        env = {**service_env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
        with run_service("pilots", env, log_dir) as service:
            ready = httpx.get(f"{service.url}/health/ready", timeout=10)

        assert ready.status_code == 503
        assert ready.json()["failing"] == ["kafka"]

    @pytest.fixture
    def own_ferretdb(self, tmp_path: Path) -> Iterator[ucap_infra.FerretDBServer]:
        """A FerretDB of this test's own, so stopping it disturbs nothing else."""
        server = ucap_infra.FerretDBServer(
            port=free_port(), data=tmp_path / "ferretdb", name=f"ferretdb-test-{tmp_path.name}"
        )
        server.prepare()
        yield server
        server.process.stop()

    def test_turns_503_when_mongodb_stops_and_200_when_it_is_back(
        self,
        own_ferretdb: ucap_infra.FerretDBServer,
        service_env: dict[str, str],
        log_dir: Path,
    ) -> None:
        own_ferretdb.start()
        env = {**service_env, "MONGODB_URI": own_ferretdb.uri}
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
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(url, timeout=10)
        if response.status_code == wanted or time.monotonic() > deadline:
            return response
        time.sleep(0.2)
