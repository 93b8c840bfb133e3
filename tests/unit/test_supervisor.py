"""`make run`'s supervisor: which exits it restarts, when, and what it says."""

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ucap_procs
from ucap_procs import ManagedProcess
from ucap_supervisor import STEADY_SECONDS, Adopted, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Stack:
    """One service, ``svc``, whose process exits with ``code`` (or sleeps, code None)."""

    def __init__(self) -> None:
        self.managed = ManagedProcess("service-svc")
        self.code: int | None = 3
        self.clock = Clock()
        self.said: list[str] = []
        self.started: list[subprocess.Popen[bytes]] = []
        self.supervisor = Supervisor(
            start=lambda _name: self.start(),
            ready=lambda _name: True,
            say=self.said.append,
            clock=self.clock,
        )

    def start(self) -> subprocess.Popen[bytes]:
        code = (
            "import time; time.sleep(60)" if self.code is None else f"raise SystemExit({self.code})"
        )
        process = self.managed.start([sys.executable, "-c", code])
        self.started.append(process)
        return process

    def step_until_said(self, pattern: str) -> re.Match[str]:
        for _ in range(200):
            assert self.supervisor.step()
            for line in self.said:
                if found := re.match(pattern, line):
                    self.said.remove(line)
                    return found
            if self.code is not None:
                self.started[-1].wait(timeout=10)
        raise AssertionError(f"{pattern!r} never said: {self.said}")


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setattr(ucap_procs, "PID_DIR", tmp_path / "pids")
    monkeypatch.setattr(ucap_procs, "LOG_DIR", tmp_path / "logs")
    made = Stack()
    yield made
    made.managed.stop(grace_seconds=1)


class TestSupervisor:
    def test_says_which_service_exited_with_what_code_and_when_it_tries_again(
        self, stack: Stack
    ) -> None:
        stack.supervisor.watch("svc", stack.managed, stack.start())

        exited = stack.step_until_said(r"^svc exited \(exit code 3\); next try in ([\d.]+) s")
        assert 0 <= float(exited.group(1)) <= 1.0
        assert len(stack.started) == 1
        stack.clock.now += 1.0
        stack.step_until_said(r"^svc restarted \(pid (\d+), restart 1\)$")
        assert len(stack.started) == 2

    def test_waits_longer_while_it_keeps_exiting_and_starts_over_once_steady(
        self, stack: Stack
    ) -> None:
        stack.supervisor.watch("svc", stack.managed, stack.start())
        waits = []
        for restart in range(1, 6):
            exited = stack.step_until_said(r"^svc exited .*; next try in ([\d.]+) s")
            waits.append(float(exited.group(1)))
            stack.clock.now += 30.0
            if restart == 5:
                stack.code = None
            stack.step_until_said(rf"^svc restarted \(pid \d+, restart {restart}\)$")
        stack.step_until_said(r"^svc ready again$")
        stack.clock.now += STEADY_SECONDS + 1
        assert stack.supervisor.step()
        stack.code = 3
        os.kill(stack.started[-1].pid, signal.SIGKILL)
        after_steady = stack.step_until_said(r"^svc exited .*; next try in ([\d.]+) s")

        assert all(0 <= wait <= bound for wait, bound in zip(waits, [1, 2, 4, 8, 16], strict=True))
        assert float(after_steady.group(1)) <= 1.0

    def test_a_service_stopped_on_purpose_ends_the_supervision_without_a_restart(
        self, stack: Stack
    ) -> None:
        stack.code = None
        stack.supervisor.watch("svc", stack.managed, stack.start())
        assert stack.supervisor.step()

        stack.managed.stop(grace_seconds=5)

        assert not stack.supervisor.step()
        assert stack.supervisor.stopped_on_purpose == "svc"
        assert len(stack.started) == 1
        assert stack.said == []

    def test_a_service_started_before_this_run_is_watched_and_restarted_too(
        self, stack: Stack
    ) -> None:
        stack.code = None
        earlier = stack.start()
        stack.supervisor.watch("svc", stack.managed, Adopted(stack.managed, earlier.pid))
        assert stack.supervisor.step()

        os.kill(earlier.pid, signal.SIGKILL)
        earlier.wait(timeout=10)
        exited = stack.step_until_said(r"^svc exited \((.+)\); next try in ([\d.]+) s")
        stack.clock.now += 1.0
        stack.step_until_said(r"^svc restarted \(pid (\d+), restart 1\)$")

        assert exited.group(1) == "exit code unknown: started before this run"
        assert stack.started[-1].pid != earlier.pid
