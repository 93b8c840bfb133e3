"""`make infra-up` twice is harmless; `make infra-down` leaves no process behind."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support.processes import REPO_ROOT, free_port


def infra(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "deploy/local/ucap_infra.py", command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def ours(run_dir: Path) -> list[str]:
    """Processes whose command line names this run folder (broker or FerretDB)."""
    found = subprocess.run(
        ["pgrep", "-af", str(run_dir)], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return [line for line in found if "pgrep" not in line]


class TestInfraLifecycle:
    def test_up_twice_reuses_the_servers_and_down_stops_them_all(self, tmp_path: Path) -> None:
        run_dir = tmp_path / "run"
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")
        }
        env |= {
            "UCAP_RUN_DIR": str(run_dir),
            "UCAP_KAFKA_PORT": str(free_port()),
            "UCAP_KAFKA_CONTROLLER_PORT": str(free_port()),
            "UCAP_MONGO_PORT": str(free_port()),
            "UCAP_KAFKA_HEAP": "384m",
        }
        try:
            first = infra("up", env)
            second = infra("up", env)
            status = infra("status", env)
            running = ours(run_dir)
        finally:
            down = infra("down", env)

        assert first.returncode == 0, first.stdout + first.stderr
        assert "kafka: starting" in first.stdout
        assert second.returncode == 0, second.stdout + second.stderr
        assert "kafka: already answering" in second.stdout
        assert "mongodb: already answering" in second.stdout
        assert status.returncode == 0
        assert len(running) == 2, running
        assert down.returncode == 0
        assert "kafka: stopped" in down.stdout
        assert ours(run_dir) == []
