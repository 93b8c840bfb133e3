"""`make run`'s runner brings every service up and takes every process down again."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.processes import REPO_ROOT, free_port

SERVICES = ["cities", "mous", "pilots", "reporting", "gateway"]


def stack(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "deploy/local/ucap_stack.py", command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestLocalStack:
    def test_up_makes_every_service_ready_and_down_leaves_no_process(
        self, service_env: dict[str, str], tmp_path: Path
    ) -> None:
        ports = {name: free_port() for name in SERVICES}
        env = {
            **service_env,
            "UCAP_RUN_DIR": str(tmp_path / "run"),
            **{f"UCAP_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
        try:
            started = stack("up", env)
            assert started.returncode == 0, started.stdout + started.stderr
            statuses = {
                name: httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10).status_code
                for name, port in ports.items()
            }
            pids = [int(p.read_text()) for p in (tmp_path / "run" / "pids").glob("*.pid")]
        finally:
            stopped = stack("down", env)

        assert statuses == dict.fromkeys(SERVICES, 200)
        assert "ucap is up" in started.stdout
        assert stopped.returncode == 0
        assert len(pids) == len(SERVICES)
        assert not [pid for pid in pids if _running(pid)]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    return state != "Z"


class TestRunUntilInterrupted:
    def test_ctrl_c_stops_every_service_it_started(
        self, service_env: dict[str, str], tmp_path: Path
    ) -> None:
        ports = {name: free_port() for name in SERVICES}
        env = {
            **service_env,
            "UCAP_RUN_DIR": str(tmp_path / "run"),
            # The demo is test_make_run's: this one interrupts the runner as soon as it is up.
            "UCAP_DEMO": "0",
            **{f"UCAP_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
        runner = subprocess.Popen(
            [sys.executable, "deploy/local/ucap_stack.py", "run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert runner.stdout is not None
            for line in runner.stdout:
                if "ucap is up" in line:
                    break
            pids = [int(p.read_text()) for p in (tmp_path / "run" / "pids").glob("*.pid")]
            ready = httpx.get(f"http://127.0.0.1:{ports['gateway']}/health/ready", timeout=10)
            runner.send_signal(signal.SIGINT)
            code = runner.wait(timeout=60)
        finally:
            if runner.poll() is None:
                runner.kill()

        assert ready.status_code == 200
        assert code == 0
        assert len(pids) == len(SERVICES)
        assert not [pid for pid in pids if _running(pid)]
