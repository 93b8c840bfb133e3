"""The ``ucap`` command run as a process, as an operator runs it, or in this process where
a test reads only its exit code and words (no server, no second interpreter to start)."""

import asyncio
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.auth import bearer
from tests.support.processes import REPO_ROOT

GRANADA = REPO_ROOT / "deploy" / "demo" / "granada.json"


def ucap(
    *args: str, env: Mapping[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m ucap_ops <args>``: its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "ucap_ops", *args],
        env=dict(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ucap_here(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The same command line, run by the command's own app in this process."""
    from typer.testing import CliRunner

    from ucap_ops.cli import app

    result = CliRunner(env=dict(env)).invoke(app, list(args), prog_name="ucap")
    return subprocess.CompletedProcess(
        ["ucap", *args], result.exit_code, result.stdout, result.stderr
    )


async def load_into_service(
    service: str, url: str, file: Path, *, suffix: str | None = None, timeout: float = 120
) -> dict[str, Any]:
    """``ucap load FILE`` straight into one service (an admin token for it, no gateway);
    its JSON summary."""
    token = bearer(service)["Authorization"].removeprefix("Bearer ")
    renamed = ["--suffix", suffix] if suffix else []
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ucap_ops",
        "load",
        str(file),
        "--gateway",
        url,
        *renamed,
        "--json",
        "--key",
        token,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, output.decode() + errors.decode()
    summary: dict[str, Any] = json.loads(output)
    return summary
