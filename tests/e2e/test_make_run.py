"""`make run`, driven as a newcomer drives it: the printed status URL answers the printed
curl with Granada's facts; Ctrl-C leaves no service running (and the shared Kafka and
MongoDB up); a second `make run` loads nothing twice.

Own ports, run dir, topic namespace and databases: it never meets the servers of
anyone else's `make run` or of the other tests.
"""

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, free_port
from tests.support.waiting import polled

SERVICES = ("cities", "mous", "pilots", "reporting", "gateway")
STATUS_LINE = re.compile(r"^Live status page:\s+(\S+)$")
CURL_LINE = re.compile(r"^Try:\s+(curl .+)$")
# Facts of ../shared/domain/ucap-summary-granada.txt the status must carry.
CITIES = ("Granada", "Haikou", "Kunming", "Liuzhou", "Zhengzhou")
PILOT_TITLES = (
    "BlockLab online cooperative work platform",
    "Haikou-Granada Biotechnology and Health Park",
    "Liuzhou delegation at the Granada International Forum",
    "International EU-China Biomedicine and Biotechnology Forum",
)


@dataclass
class MakeRun:
    """A `make run` in its own session, its output read line by line as it comes."""

    process: subprocess.Popen[str]
    lines: "queue.Queue[str]" = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 240) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "make run ended:\n" + "".join(self.seen)
                continue
            self.seen.append(line)
            found = pattern.match(line.rstrip("\n"))
            if found:
                return found
        raise AssertionError(f"{pattern.pattern!r} never printed:\n" + "".join(self.seen))

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=90)


@contextmanager
def make_run(env: dict[str, str]) -> Iterator[MakeRun]:
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = MakeRun(process)
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            running.lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def run_env(service_env: dict[str, str], tmp_path: Path, infra: Infra) -> Iterator[dict[str, str]]:
    unique = uuid.uuid4().hex[:8]
    env = {
        **service_env,
        "UCAP_RUN_DIR": str(tmp_path / "run"),
        "UCAP_TOPIC_NAMESPACE": f"ucap-makerun-{unique}",
    }
    for name in SERVICES:
        prefix = f"UCAP_{name.upper()}_"
        env |= {
            f"{prefix}PORT": str(free_port()),
            f"{prefix}DATABASE": f"makerun_{unique}_{name}",
            f"{prefix}CONSUMER_GROUP": f"makerun-{unique}-{name}",
        }
    env.pop("UCAP_DEMO", None)
    env.pop("UCAP_API_KEY", None)
    yield env
    mongo: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_uri)
    try:
        for name in SERVICES:
            mongo.drop_database(env[f"UCAP_{name.upper()}_DATABASE"])
    finally:
        mongo.close()


def service_pids(run_dir: Path) -> list[int]:
    return [int(path.read_text()) for path in (run_dir / "pids").glob("service-*.pid")]


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"


def status_through_curl(command: str, timeout: float = 60) -> dict[str, Any]:
    """The printed curl, run as printed, until the status holds the pilots (the reporting
    service learns of them through Kafka, a moment after they were loaded)."""

    def curl() -> subprocess.CompletedProcess[str]:
        answer = subprocess.run(
            [*shlex.split(command), "--silent", "--fail-with-body"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert answer.returncode == 0, answer.stdout + answer.stderr
        return answer

    answer = polled(
        curl, lambda answer: all(title in answer.stdout for title in PILOT_TITLES), timeout=timeout
    )
    assert all(title in answer.stdout for title in PILOT_TITLES), (
        f"the pilots never reached the status:\n{answer.stdout}"
    )
    status: dict[str, Any] = json.loads(answer.stdout)
    return status


def listed(gateway: str, key: str, path: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{gateway}{path}", params={"limit": "200"}, headers={"X-API-Key": key}, timeout=30
    )
    answer.raise_for_status()
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def infra_answers(infra: Infra) -> bool:
    """MongoDB answers a ping, and Kafka's port takes a connection."""
    mongo: MongoClient[dict[str, Any]] = MongoClient(
        infra.mongodb_uri, serverSelectionTimeoutMS=5000
    )
    try:
        mongo.admin.command("ping")
    finally:
        mongo.close()
    host, port = infra.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5):
        return True


class TestMakeRun:
    def test_shows_granada_live_stops_cleanly_and_a_second_run_adds_nothing(
        self, run_env: dict[str, str], infra: Infra
    ) -> None:
        run_dir = Path(run_env["UCAP_RUN_DIR"])

        with make_run(run_env) as first:
            status_url = first.wait_for(STATUS_LINE).group(1)
            curl = first.wait_for(CURL_LINE).group(1)
            first.wait_for(re.compile(r"^Press Ctrl-C to stop\.$"))
            status = status_through_curl(curl)
            pids = service_pids(run_dir)
            code = first.interrupt()
        credentials_mode = (run_dir / "demo-credentials.json").stat().st_mode & 0o777

        assert (
            status_url
            == f"http://127.0.0.1:{run_env['UCAP_GATEWAY_PORT']}/ucaps/granada-ucap/status"
        )
        assert status_url in curl
        text = str(status)
        assert [city for city in CITIES if city not in text] == []
        assert status["ucap_id"] == "granada-ucap"
        assert len(pids) == len(SERVICES)
        assert [pid for pid in pids if running(pid)] == []
        # make itself is interrupted too: it ends by the signal or reports it (2).
        assert code in (0, 2, -signal.SIGINT), "".join(first.seen)
        assert credentials_mode == 0o600
        assert infra_answers(infra), "stopping make run stopped the shared infrastructure"

        with make_run(run_env) as second:
            second.wait_for(re.compile(r"^Press Ctrl-C to stop\.$"))
            gateway = f"http://127.0.0.1:{run_env['UCAP_GATEWAY_PORT']}"
            key = re.search(r'X-API-Key: (\S+)"', "".join(second.seen))
            assert key is not None
            cities = listed(gateway, key.group(1), "/cities")
            mous = listed(gateway, key.group(1), "/mous")
            pilots = listed(gateway, key.group(1), "/pilots")
            ucaps = listed(gateway, key.group(1), "/ucaps")
            in_2019 = httpx.get(
                f"{gateway}/ucaps/granada-ucap/status",
                params={"as_of": "2019-12-31"},
                headers={"X-API-Key": key.group(1)},
                timeout=30,
            )
            second_pids = service_pids(run_dir)
            second.interrupt()

        reused = [line for line in second.seen if line.rstrip().endswith("(reused)")]
        assert len(reused) == 2 + len(CITIES)
        assert sorted(c["name"] for c in cities) == sorted(CITIES)
        assert len(mous) == len({m["id"] for m in mous}) == 4
        assert len(pilots) == len({p["id"] for p in pilots}) == 13
        assert [u["ucap_id"] for u in ucaps] == ["granada-ucap"]
        activities = [a["activity_id"] for a in ucaps[0]["activities"]]
        assert len(activities) == len(set(activities)) == 11
        # The demo as it stood at the end of 2019, by the dates its facts carry.
        assert in_2019.status_code == 200, in_2019.text
        assert in_2019.json()["axis"] == "cooperation"
        days_then = [a["date"] for a in in_2019.json()["status"]["ucap"]["activities"]]
        assert days_then
        assert max(days_then) <= "2019-12-31"
        assert len(days_then) < len(activities)
        assert [pid for pid in second_pids if running(pid)] == []
