"""Each fuzzing module runs against a whole stack of its own with the Granada data loaded,
so the generated ids meet real objects, and the modules run side by side under
`make test`."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fuzzing import SERVICE_PREFIXES
from tests.support.stack import Stack, load_granada, running_stack
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The fuzzer outpaces any sensible per-key limit; the limit has tests of its own.
    env = {
        **service_env,
        "UCAP_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
        "UCAP_GATEWAY_RATE_LIMIT_BURST": "1000000",
    }
    with running_stack(env, tmp_path_factory.mktemp("fuzz-logs")) as running:
        load_granada(running.url, running.env)
        yield running


@pytest.fixture(scope="module")
async def document(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The merged document, once every service's part has come."""

    async def complete() -> str | None:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{stack.url}/openapi.json")
        paths = answer.json()["paths"]
        found = all(any(p.startswith(prefix) for p in paths) for prefix in SERVICE_PREFIXES)
        return answer.text if found else None

    path = tmp_path_factory.mktemp("fuzz") / "openapi.json"
    path.write_text(await eventually(complete, timeout=60))
    return path
