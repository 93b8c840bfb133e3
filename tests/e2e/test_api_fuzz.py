"""The public API fuzzed from its own OpenAPI document, with and without a key.

schemathesis generates requests from the gateway's merged document (examples,
boundary and negative cases, then random ones) and checks every answer: no
server error, a documented status code, a body and headers that match the
document, invalid input refused, and nothing served without a key. The Granada
data is loaded first, so the generated ids meet real objects. The live feeds
(server-sent events) answer a stream that never ends, so the run with a key
leaves them out; the run without one tries them too.

``UCAP_FUZZ_EXAMPLES`` (default 100) and ``UCAP_FUZZ_SEED`` change the run;
a failure prints schemathesis's report with a curl line to reproduce it.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.keys import create_key
from tests.support.stack import Stack, load_granada, running_stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(3600)

EXAMPLES = os.environ.get("UCAP_FUZZ_EXAMPLES", "100")
SEED = os.environ.get("UCAP_FUZZ_SEED", "20261128")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "ignored_auth",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
    )
)
SERVICE_PREFIXES = ("/cities", "/mous", "/pilots", "/ucaps/{ucap_id}/activities")
OPEN_WITHOUT_KEY = ("health", "login", "logout")
ENDLESS_FEEDS = r"^/(ucaps/\{ucap_id\}|programme)/live$"


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


def fuzz(stack: Stack, document: Path, options: list[str], report: Path) -> None:
    """Run schemathesis; fail with its report unless every check passed."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(document),
        "--url",
        stack.url,
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--phases",
        "examples,coverage,fuzzing",
        # One worker: with two, Hypothesis reads its filters' source from two threads at
        # once and its lambda descriptions fail at random (SystemError from ast.parse).
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "vcr",
        "--report-vcr-path",
        str(report),
        *options,
    ]
    # Run where schemathesis may keep its crash cache: beside the report, not in the repository.
    result = subprocess.run(
        command, cwd=report.parent, capture_output=True, text=True, timeout=3300, check=False
    )
    summary = result.stdout[result.stdout.rfind("SUMMARY") :]
    print(summary)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-2000:]
    assert "Tested: " in summary


def answers_by_area(cassette: Path) -> dict[str, set[int]]:
    """Status codes seen per first path segment, from schemathesis's recording."""
    recorded = yaml.load(cassette.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    seen: dict[str, set[int]] = {}
    for interaction in recorded["http_interactions"]:
        if interaction.get("response") is None:
            continue
        path = httpx.URL(interaction["request"]["uri"]).path
        area = path.strip("/").split("/")[0]
        seen.setdefault(area, set()).add(int(interaction["response"]["status"]["code"]))
    return seen


class TestFuzzedApi:
    def test_a_city_publisher_gets_only_documented_answers(
        self, stack: Stack, document: Path, tmp_path: Path
    ) -> None:
        key = create_key(stack.env, principal="city:granada", roles=["publisher"])["key"]
        options = ["--header", f"X-API-Key: {key}", "--exclude-path-regex", ENDLESS_FEEDS]
        fuzz(stack, document, options, tmp_path / "cassette.yaml")

    def test_without_a_key_everything_but_health_is_refused(
        self, stack: Stack, document: Path, tmp_path: Path
    ) -> None:
        cassette = tmp_path / "cassette.yaml"
        fuzz(stack, document, [], cassette)

        areas = {
            path.strip("/").split("/")[0] for path in json.loads(document.read_text())["paths"]
        }
        seen = answers_by_area(cassette)
        closed = {area: codes for area, codes in seen.items() if area not in OPEN_WITHOUT_KEY}
        assert set(closed) == areas - set(OPEN_WITHOUT_KEY), "every area was tried"
        assert all(codes == {401} for codes in closed.values()), closed
