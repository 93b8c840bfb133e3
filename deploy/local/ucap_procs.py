"""Background processes with pid files and log files, for local development.

Everything lives under the repository's ignored ``.run/`` folder: a process
started here can be found and stopped later by another command.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = Path(os.environ.get("UCAP_RUN_DIR", REPO_ROOT / ".run"))
CACHE_DIR = Path(os.environ.get("UCAP_CACHE_DIR", REPO_ROOT / ".cache"))
LOG_DIR = RUN_DIR / "logs"
PID_DIR = RUN_DIR / "pids"
LOG_KEPT_BYTES = 64 * 2**20
"""A log larger than this when its process starts becomes ``<name>.log.1`` (one kept)."""
TAIL_BYTES = 64 * 2**10


@dataclass(frozen=True)
class ManagedProcess:
    """A named process of ours: its pid file and its log file (under ``run_dir`` where
    given, a folder of its own such as the scaled-out stack's ``.run/scale``)."""

    name: str
    run_dir: Path | None = field(default=None, kw_only=True)

    @property
    def pid_file(self) -> Path:
        folder = PID_DIR if self.run_dir is None else self.run_dir / "pids"
        return folder / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        folder = LOG_DIR if self.run_dir is None else self.run_dir / "logs"
        return folder / f"{self.name}.log"

    def pid(self) -> int | None:
        """The recorded pid if that process still runs, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start(
        self, command: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = REPO_ROOT
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` in its own session, output appended to the log file."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self._set_aside_a_large_log()
        with self.log_file.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} start {self.name}\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        return process

    def stop(self, *, grace_seconds: float = 20.0) -> bool:
        """Stop the process group (SIGTERM, then SIGKILL after the grace period).

        Returns whether anything was running.
        """
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.1)
        _signal_group(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
        return True

    def _set_aside_a_large_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.log_file.stat().st_size > LOG_KEPT_BYTES:
                self.log_file.replace(self.log_file.with_name(f"{self.log_file.name}.1"))

    def log_tail(self, lines: int = 20) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - TAIL_BYTES))
                text = log.read().decode(errors="replace")
        except FileNotFoundError:
            return "(no log yet)"
        return "\n".join(text.splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return True
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)
