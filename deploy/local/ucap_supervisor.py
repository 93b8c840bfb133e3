"""Keeps `make run`'s services up: one that exits (a crash, a kill -9) is started again.

Each service has its own backoff with full jitter (``ucap_shared.backoff``): the first
restart comes within a second, a service that keeps exiting waits longer each time (up to
``MOST_WAIT_SECONDS``), and one that has stayed up ``STEADY_SECONDS`` starts the count
over. Every exit and restart is said on the runner's output.

A service whose pid file is gone, or names another process, was stopped on purpose
(``make stop`` removes the pid file before it signals): that ends the supervision.
"""

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from ucap_procs import ManagedProcess
from ucap_shared.backoff import Backoff

FIRST_WAIT_SECONDS = 1.0
MOST_WAIT_SECONDS = 30.0
STEADY_SECONDS = 30.0


class Adopted:
    """A service some earlier command started: watched by pid, its exit code unknown."""

    def __init__(self, managed: ManagedProcess, pid: int) -> None:
        self.managed = managed
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self.managed.pid() != self.pid:
            self.returncode = -1
        return self.returncode


Process = subprocess.Popen[bytes] | Adopted


@dataclass
class Watched:
    name: str
    managed: ManagedProcess
    process: Process
    started_at: float
    backoff: Backoff
    restart_at: float | None = None
    restarts: int = 0
    awaiting_ready: bool = False


def described_exit(process: Process) -> str:
    if isinstance(process, Adopted):
        return "exit code unknown: started before this run"
    code = process.returncode
    assert code is not None
    if code < 0:
        try:
            return f"exit code {code}, {signal.Signals(-code).name}"
        except ValueError:
            return f"exit code {code}"
    return f"exit code {code}"


class Supervisor:
    """Restarts the services it watches; ``step()`` is False once one was stopped on purpose."""

    def __init__(
        self,
        *,
        start: Callable[[str], subprocess.Popen[bytes]],
        ready: Callable[[str], bool],
        say: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._start = start
        self._ready = ready
        self._say = say
        self._clock = clock
        self._watched: dict[str, Watched] = {}
        self.stopped_on_purpose: str | None = None

    def watch(self, name: str, managed: ManagedProcess, process: Process) -> None:
        self._watched[name] = Watched(
            name,
            managed,
            process,
            started_at=self._clock(),
            backoff=Backoff(first=FIRST_WAIT_SECONDS, most=MOST_WAIT_SECONDS),
        )

    def step(self) -> bool:
        for watched in self._watched.values():
            if watched.restart_at is not None:
                if self._clock() >= watched.restart_at:
                    self._restart(watched)
            elif watched.process.poll() is not None:
                if not self._still_ours(watched):
                    self.stopped_on_purpose = watched.name
                    return False
                self._exited(watched)
            else:
                self._running(watched)
        return True

    def _still_ours(self, watched: Watched) -> bool:
        try:
            recorded = int(watched.managed.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return False
        return recorded == watched.process.pid

    def _exited(self, watched: Watched) -> None:
        wait = watched.backoff.next_wait()
        watched.restart_at = self._clock() + wait
        watched.awaiting_ready = False
        self._say(
            f"{watched.name} exited ({described_exit(watched.process)}); "
            f"next try in {wait:.1f} s (log: {watched.managed.log_file})"
        )

    def _restart(self, watched: Watched) -> None:
        watched.process = self._start(watched.name)
        watched.started_at = self._clock()
        watched.restart_at = None
        watched.restarts += 1
        watched.awaiting_ready = True
        self._say(
            f"{watched.name} restarted (pid {watched.process.pid}, restart {watched.restarts})"
        )

    def _running(self, watched: Watched) -> None:
        if watched.awaiting_ready and self._ready(watched.name):
            watched.awaiting_ready = False
            self._say(f"{watched.name} ready again")
        if watched.backoff.failures and self._clock() - watched.started_at > STEADY_SECONDS:
            watched.backoff.reset()
