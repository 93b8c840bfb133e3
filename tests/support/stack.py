"""The whole system as real processes, on a topic namespace and databases of its own."""

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.keys import auth, create_key
from tests.support.processes import REPO_ROOT, RunningService, run_service

SERVICES = ("cities", "mous", "pilots", "reporting")
LOADERS = (
    ("load_cities.py", "cities"),
    ("load_mous.py", "mous"),
    ("load_pilots.py", "pilots"),
    ("load_ucap.py", "reporting"),
)


@dataclass
class Stack:
    services: dict[str, RunningService]
    gateway: RunningService
    env: dict[str, str]
    log_dir: Path

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def headers(self) -> dict[str, str]:
        return self.gateway.headers


def isolated_env(base: Mapping[str, str], suffix: str) -> dict[str, str]:
    env = {**base, "UCAP_TOPIC_NAMESPACE": f"ucap-e2e-{suffix}"}
    for name in (*SERVICES, "gateway"):
        env[f"UCAP_{name.upper()}_DATABASE"] = f"e2e_{suffix}_{name}"
        env[f"UCAP_{name.upper()}_CONSUMER_GROUP"] = f"e2e-{suffix}-{name}"
    return env


@contextmanager
def running_stack(
    base: Mapping[str, str], log_dir: Path, *, stopped: tuple[str, ...] = ()
) -> Iterator[Stack]:
    env = isolated_env(base, uuid.uuid4().hex[:8])
    with ExitStack() as stack:
        services = {name: stack.enter_context(run_service(name, env, log_dir)) for name in SERVICES}
        gateway_env = {
            **env,
            **{f"UCAP_GATEWAY_{name.upper()}_URL": s.url for name, s in services.items()},
        }
        admin = create_key(gateway_env, principal="ops:e2e", roles=["admin"])["key"]
        gateway = stack.enter_context(run_service("gateway", gateway_env, log_dir))
        gateway.headers = auth(admin)
        yield Stack(services, gateway, {**gateway_env, "UCAP_API_KEY": admin}, log_dir)


def load_granada(url: str, env: Mapping[str, str], *, timeout: float = 90.0) -> None:
    """Run each demo loader against the gateway, again until it succeeds (they are
    idempotent): each waits for the views the one before it fed. The key they use
    comes from ``UCAP_API_KEY`` in ``env``."""
    for loader, _ in LOADERS:
        deadline = time.monotonic() + timeout
        while True:
            result = subprocess.run(
                [sys.executable, str(REPO_ROOT / "deploy" / "demo" / loader), "--url", url],
                env=dict(env),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if result.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{loader} failed:\n{result.stdout}\n{result.stderr}")
            time.sleep(0.5)
