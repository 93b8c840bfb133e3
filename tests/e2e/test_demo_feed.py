"""`deploy/demo/feed.py`: simulated city systems post through the gateway; the status moves."""

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.support.keys import create_key
from tests.support.processes import REPO_ROOT
from tests.support.stack import Stack, load_granada, running_stack
from tests.support.waiting import polled

FEED = REPO_ROOT / "deploy" / "demo" / "feed.py"
UCAP = "granada-ucap"
CITIES = ("granada", "kunming")


@pytest.fixture(scope="module")
def granada(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with running_stack(service_env, tmp_path_factory.mktemp("demo-feed-logs")) as stack:
        load_granada(stack.url, stack.env)
        yield stack


@pytest.fixture(scope="module")
def run_dir(granada: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory holding demo credentials shaped as `make run` writes them."""
    keys = {
        f"city:{city}": create_key(granada.env, principal=f"city:{city}", roles=["publisher"])
        for city in CITIES
    }
    keys["iuc"] = create_key(granada.env, principal="iuc", roles=["reader"])
    directory = tmp_path_factory.mktemp("run")
    (directory / "demo-credentials.json").write_text(
        json.dumps(
            {
                "gateway": granada.url,
                "keys": {
                    principal: {"key_id": k["key_id"], "key": k["key"], "roles": k["roles"]}
                    for principal, k in keys.items()
                },
            }
        )
    )
    return directory


def feed_env(granada: Stack, run_dir: Path) -> dict[str, str]:
    env = {**granada.env, "UCAP_RUN_DIR": str(run_dir)}
    env.pop("UCAP_API_KEY", None)
    return env


def status(stack: Stack, fmt: str) -> httpx.Response:
    return httpx.get(
        f"{stack.url}/ucaps/{UCAP}/status",
        params={"format": fmt},
        headers=stack.headers,
        timeout=30,
    )


def posted_summaries(output: str) -> list[str]:
    """The summaries of the progress lines: `… progress <pilot>: <summary> -> 201 ok`."""
    return [
        line.split(": ", 1)[1].rsplit(" -> ", 1)[0]
        for line in output.splitlines()
        if " progress " in line
    ]


def pump(stream: IO[str], lines: "queue.Queue[str]") -> None:
    for line in stream:
        lines.put(line)


class TestFeed:
    def test_count_posts_are_accepted_and_the_status_shows_them(
        self, granada: Stack, run_dir: Path
    ) -> None:
        before = status(granada, "json").headers["ETag"]

        result = subprocess.run(
            [sys.executable, str(FEED), "--count", "8", "--rate", "10", "--seed", "7"],
            env=feed_env(granada, run_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

        assert result.returncode == 0, result.stderr
        posts = [line for line in result.stdout.splitlines() if " -> " in line]
        assert len(posts) == 8
        refused = [line for line in posts if not (" -> 201 ok" in line or " -> 200 ok" in line)]
        assert refused == [], "the feed keeps to the pilots' rules"
        assert {line.split()[1] for line in posts} <= set(CITIES)
        summaries = posted_summaries(result.stdout)
        assert summaries, "some posts are progress updates"
        text = polled(
            lambda: status(granada, "md").text,
            lambda text: any(summary in text for summary in summaries),
            timeout=60,
        )
        assert any(summary in text for summary in summaries), "no posted update reached it"
        assert status(granada, "json").headers["ETag"] != before

    def test_ctrl_c_stops_it_cleanly(self, granada: Stack, run_dir: Path) -> None:
        process = subprocess.Popen(
            [sys.executable, str(FEED), "--rate", "5"],
            env=feed_env(granada, run_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        reader = threading.Thread(target=pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while " -> " not in lines.get(timeout=max(0.1, deadline - time.monotonic())):
                pass  # the feed has started and posted once
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        assert process.stderr is not None
        errors = process.stderr.read()
        remaining = []
        while not lines.empty():
            remaining.append(lines.get())

        assert code == 0
        assert "Traceback" not in errors
        assert any("stopped after" in line for line in remaining)


class TestWithoutCredentials:
    def test_says_to_run_make_run_first(self, service_env: dict[str, str], tmp_path: Path) -> None:
        result = subprocess.run(
            [sys.executable, str(FEED), "--count", "1"],
            env={**service_env, "UCAP_RUN_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert result.returncode == 1
        assert "run `make run` first" in result.stderr
        assert str(tmp_path / "demo-credentials.json") in result.stderr
        assert "Traceback" not in result.stderr
