"""`make run`'s runner brings every service up, restarts one that exits, and takes every
process down again."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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


class Runner:
    """``ucap_stack.py run`` on its own ports, its output read line by line as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.run_dir = Path(env["UCAP_RUN_DIR"])
        self.process = subprocess.Popen(
            [sys.executable, "deploy/local/ucap_stack.py", "run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "the runner ended:\n" + "\n".join(self.seen)
                continue
            self.seen.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"{pattern!r} never printed:\n" + "\n".join(self.seen))

    def pid(self, name: str) -> int:
        return int((self.run_dir / "pids" / f"service-{name}.pid").read_text())

    def pids(self) -> list[int]:
        return [int(p.read_text()) for p in (self.run_dir / "pids").glob("*.pid")]


@pytest.fixture
def runner(service_env: dict[str, str], tmp_path: Path) -> Iterator[Runner]:
    env = {
        **service_env,
        "UCAP_RUN_DIR": str(tmp_path / "run"),
        "UCAP_DEMO": "0",
        **{f"UCAP_{name.upper()}_PORT": str(free_port()) for name in SERVICES},
    }
    running = Runner(env)
    try:
        running.wait_for("ucap is up")
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGINT)
            try:
                running.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                running.process.kill()
        stack("down", env)


class TestRunKeepsServicesUp:
    def test_a_service_killed_with_sigkill_is_restarted_said_and_serving_again(
        self, runner: Runner
    ) -> None:
        runner.wait_for(r"^Press Ctrl-C to stop\.$")
        killed = runner.pid("reporting")
        os.kill(killed, signal.SIGKILL)

        exited = runner.wait_for(r"^reporting exited \((.+)\); next try in ([\d.]+) s")
        restarted = runner.wait_for(r"^reporting restarted \(pid (\d+), restart 1\)$")
        runner.wait_for(r"^reporting ready again$", timeout=90)
        port = runner.env["UCAP_REPORTING_PORT"]
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
        now_running = {name: runner.pid(name) for name in SERVICES}
        runner.process.send_signal(signal.SIGINT)
        code = runner.process.wait(timeout=60)

        assert exited.group(1) == "exit code -9, SIGKILL"
        assert 0 <= float(exited.group(2)) <= 1.0
        assert int(restarted.group(1)) == now_running["reporting"] != killed
        assert ready.status_code == 200
        assert code == 0
        assert not [pid for pid in now_running.values() if _running(pid)]

    def test_make_stop_stops_the_runner_and_every_service_with_no_restart(
        self, runner: Runner
    ) -> None:
        runner.wait_for(r"^Press Ctrl-C to stop\.$")
        pids = runner.pids()

        stopped = stack("down", runner.env)
        runner.wait_for(r"was stopped \(make stop\); stopping the others$", timeout=90)
        code = runner.process.wait(timeout=60)

        assert stopped.returncode == 0
        assert code == 0
        assert not [line for line in runner.seen if " restarted (pid " in line]
        assert len(pids) == len(SERVICES)
        assert not [pid for pid in pids if _running(pid)]
        assert not list((runner.run_dir / "pids").glob("*.pid"))
