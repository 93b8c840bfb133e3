"""The ``ucap`` command run as a process, as an operator runs it."""

import subprocess
import sys
from collections.abc import Mapping

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
