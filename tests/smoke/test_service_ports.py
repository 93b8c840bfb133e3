"""A service started for a test whose free port another process took first starts again
on another one, instead of failing the test (two test workers pick ports at once)."""

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import processes


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_taken_before_the_service_binds_it_is_given_up_for_another(
    taken_port: int,
    service_env: dict[str, str],
    log_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = iter([taken_port])
    real_free_port = processes.free_port
    monkeypatch.setattr(processes, "free_port", lambda: next(ports, None) or real_free_port())

    with processes.run_service("cities", service_env, log_dir) as service:
        live = httpx.get(f"{service.url}/health/live")

    assert live.status_code == 200
    assert not service.url.endswith(f":{taken_port}")
    assert any(str(taken_port) in log.name for log in log_dir.iterdir())
