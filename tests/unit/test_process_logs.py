"""The local launcher's log files: a large one is set aside when its process starts, and
the tail shown when a start fails is read from the end, not the whole file."""

import subprocess
import sys
from pathlib import Path

import pytest

import ucap_procs
from ucap_procs import ManagedProcess


@pytest.fixture
def managed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ManagedProcess:
    monkeypatch.setattr(ucap_procs, "PID_DIR", tmp_path / "pids")
    monkeypatch.setattr(ucap_procs, "LOG_DIR", tmp_path / "logs")
    monkeypatch.setattr(ucap_procs, "LOG_KEPT_BYTES", 1000)
    return ManagedProcess("service-svc")


def started_and_ended(managed: ManagedProcess, says: str) -> None:
    process: subprocess.Popen[bytes] = managed.start([sys.executable, "-c", f"print({says!r})"])
    assert process.wait(timeout=30) == 0


def test_a_log_past_the_limit_is_set_aside_and_a_new_one_begun(managed: ManagedProcess) -> None:
    managed.log_file.parent.mkdir(parents=True)
    managed.log_file.write_text("old line\n" * 200)  # 1,800 bytes: past the limit

    started_and_ended(managed, "new line")

    assert managed.log_file.with_name("service-svc.log.1").read_text() == "old line\n" * 200
    assert "old line" not in managed.log_file.read_text()
    assert managed.log_file.read_text().endswith("new line\n")


def test_a_log_within_the_limit_is_appended_to(managed: ManagedProcess) -> None:
    managed.log_file.parent.mkdir(parents=True)
    managed.log_file.write_text("old line\n")

    started_and_ended(managed, "new line")

    assert managed.log_file.read_text().startswith("old line\n")
    assert not managed.log_file.with_name("service-svc.log.1").exists()


def test_the_tail_is_the_last_lines(
    managed: ManagedProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ucap_procs, "TAIL_BYTES", 100)
    managed.log_file.parent.mkdir(parents=True)
    managed.log_file.write_text("".join(f"line {n}\n" for n in range(1000)))

    assert managed.log_tail(3) == "line 997\nline 998\nline 999"
    assert ManagedProcess("service-none").log_tail() == "(no log yet)"
