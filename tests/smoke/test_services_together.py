"""Services started side by side for a test: each answers once the block begins, and all
are stopped when it ends, or as soon as one of them cannot start."""

import socket
from pathlib import Path

import httpx
import pytest

from tests.support.processes import run_services


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_each_answers_inside_the_block_and_none_runs_after_it(
    service_env: dict[str, str], log_dir: Path
) -> None:
    with run_services(("cities", "mous"), service_env, log_dir) as running:
        answers = {
            name: httpx.get(f"{service.url}/health/live").status_code
            for name, service in running.items()
        }

    assert answers == {"cities": 200, "mous": 200}
    assert all(service.process.poll() is not None for service in running.values())


def test_one_that_cannot_start_stops_the_others_and_says_why(
    service_env: dict[str, str], log_dir: Path
) -> None:
    with (
        pytest.raises(RuntimeError, match="nosuch exited early"),
        run_services(("cities", "nosuch"), service_env, log_dir),
    ):
        pytest.fail("the block ran without every service")

    started = [int(log.stem.split("-")[1]) for log in log_dir.glob("cities-*.log")]
    assert started, "cities was started"
    assert not any(listening(port) for port in started)
