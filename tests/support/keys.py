"""API keys for tests that go through the gateway, made with the operators' command."""

import json
import subprocess
import sys
from collections.abc import Mapping

from tests.support.processes import REPO_ROOT


def create_key(env: Mapping[str, str], *, principal: str, roles: list[str]) -> dict[str, str]:
    """Run `ucap keys create`; its JSON answer (with the key, shown once)."""
    who = (
        ["--city", principal.removeprefix("city:")]
        if principal.startswith("city:")
        else ["--principal", principal]
    )
    command = [sys.executable, "-m", "ucap_ops", "keys", "create", *who, "--json"]
    for role in roles:
        command += ["--role", role]
    result = subprocess.run(
        command, env=dict(env), cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    created: dict[str, str] = json.loads(result.stdout)
    return created


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
