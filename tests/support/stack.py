"""The whole system as real processes, on a topic namespace and databases of its own."""

import json
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.keys import auth, create_key
from tests.support.processes import RunningService, run_service, run_services
from tests.support.ucap_command import GRANADA, ucap

SERVICES = ("cities", "mous", "pilots", "reporting")


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
def running_stack(base: Mapping[str, str], log_dir: Path) -> Iterator[Stack]:
    """Every service and the gateway, with an admin key; the services and the key are
    made side by side, the gateway once it knows where the services answer."""
    env = isolated_env(base, uuid.uuid4().hex[:8])
    with ExitStack() as stack:
        with ThreadPoolExecutor(max_workers=1) as pool:
            creating = pool.submit(create_key, env, principal="ops:e2e", roles=["admin"])
            services = stack.enter_context(run_services(SERVICES, env, log_dir))
        admin = creating.result()["key"]
        gateway_env = {
            **env,
            **{f"UCAP_GATEWAY_{name.upper()}_URL": s.url for name, s in services.items()},
        }
        gateway = stack.enter_context(run_service("gateway", gateway_env, log_dir))
        gateway.headers = auth(admin)
        yield Stack(services, gateway, {**gateway_env, "UCAP_API_KEY": admin}, log_dir)


def load_granada(
    url: str, env: Mapping[str, str], *, suffix: str = "", wait: float = 90.0
) -> dict[str, Any]:
    """``ucap load deploy/demo/granada.json`` through the gateway at ``url``, with the key
    in ``env``'s ``UCAP_API_KEY``; its JSON summary. The loader itself waits for the views
    each section feeds, for up to ``wait`` seconds an item."""
    args = ["load", str(GRANADA), "--gateway", url, "--json", "--wait", str(wait)]
    result = ucap(*args, *(["--suffix", suffix] if suffix else []), env=env)
    if result.returncode != 0:
        raise RuntimeError(f"ucap load failed:\n{result.stdout}\n{result.stderr}")
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary
