"""The public API fuzzed from its own OpenAPI document, with and without a key.

schemathesis generates requests from the gateway's merged document (examples,
boundary and negative cases, then random ones) and checks every answer: no
server error, a documented status code, a body and headers that match the
document, invalid input refused, and nothing served without a key. The Granada
data is loaded first, so the generated ids meet real objects. The live feeds
(server-sent events) answer a stream that never ends, so the run with a key
leaves them out; the run without one tries them too.

``UCAP_FUZZ_EXAMPLES`` (default 100) and ``UCAP_FUZZ_SEED`` change the run;
a failure prints schemathesis's report with a curl line to reproduce it. Each run
is split by the paths' first segment into ``AREAS`` (the last one: every path
the others leave), so a parallel test run fuzzes them side by side.

``TestHostileCases`` adds what schemathesis does not generate from the document:
bodies nested 5,000 deep or not text at all under any content type, any
``X-UCAP-Occurred-At`` value from any key, and dates at both ends of the calendar
in every kind of date field, each answered without a server error and, when
refused, in the one error body.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.hostile import DEEP_ARRAY, DEEP_OBJECT, OCCURRED_AT_EDGES, ODD_CONTENT_TYPES
from tests.support.keys import create_key
from tests.support.openapi_documents import merged_public_document
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
SPLIT_OFF = {"pilots": ("pilots",), "ucaps": ("ucaps",), "cities": ("cities", "organisations")}
REST = "the-rest"
AREAS = (*SPLIT_OFF, REST)


def first_segments(*names: str) -> str:
    return rf"^/({'|'.join(names)})(/|$)"


def area_filter(area: str, *, excluding: str | None = None) -> list[str]:
    """schemathesis options that keep the paths of ``area`` (and drop ``excluding``)."""
    if area == REST:
        split_off = first_segments(*(name for names in SPLIT_OFF.values() for name in names))
        dropped = split_off if excluding is None else f"{split_off}|{excluding}"
        return ["--exclude-path-regex", dropped]
    kept = ["--include-path-regex", first_segments(*SPLIT_OFF[area])]
    return kept if excluding is None else [*kept, "--exclude-path-regex", excluding]


def area_of(path: str) -> str:
    first = path.strip("/").split("/")[0]
    return next((area for area, names in SPLIT_OFF.items() if first in names), REST)


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


@pytest.mark.parametrize("area", AREAS)
class TestFuzzedApi:
    def test_a_city_publisher_gets_only_documented_answers(
        self, stack: Stack, document: Path, tmp_path: Path, area: str
    ) -> None:
        key = create_key(stack.env, principal="city:granada", roles=["publisher"])["key"]
        options = ["--header", f"X-API-Key: {key}", *area_filter(area, excluding=ENDLESS_FEEDS)]
        fuzz(stack, document, options, tmp_path / "cassette.yaml")

    def test_without_a_key_everything_but_health_is_refused(
        self, stack: Stack, document: Path, tmp_path: Path, area: str
    ) -> None:
        cassette = tmp_path / "cassette.yaml"
        fuzz(stack, document, area_filter(area), cassette)

        segments = {
            path.strip("/").split("/")[0]
            for path in json.loads(document.read_text())["paths"]
            if area_of(path) == area
        }
        seen = answers_by_area(cassette)
        closed = {
            segment: codes for segment, codes in seen.items() if segment not in OPEN_WITHOUT_KEY
        }
        assert set(closed) == segments - set(OPEN_WITHOUT_KEY), "every path of the area was tried"
        assert all(codes == {401} for codes in closed.values()), closed


class TestTheAreasCoverTheDocument:
    def test_each_path_is_in_exactly_one_area_and_every_area_has_paths(self) -> None:
        paths = merged_public_document()["paths"]
        by_area = {area: [p for p in paths if area_of(p) == area] for area in AREAS}
        assert all(by_area.values()), by_area
        for path in paths:
            kept = [area for area in AREAS if _kept_by(area, path)]
            assert kept == [area_of(path)], path


def _kept_by(area: str, path: str) -> bool:
    """Whether schemathesis, given ``area_filter(area)``, keeps ``path`` (regex search)."""
    options = area_filter(area)
    pairs = dict(zip(options[::2], options[1::2], strict=True))
    include = pairs.get("--include-path-regex")
    exclude = pairs.get("--exclude-path-regex")
    return (include is None or re.search(include, path) is not None) and (
        exclude is None or re.search(exclude, path) is None
    )


ODD_BODIES = (DEEP_ARRAY, DEEP_OBJECT, b"\xff\xfe\x00{", b"{", b'"\\ud800"', b"1e999999")
EXTREME_DATES = ("0001", "0001-01", "0001-01-01", "9999", "9999-12", "9999-12-31")


def body_operations(document: Path) -> list[tuple[str, str]]:
    """(method, path) of every operation with a request body, path parameters filled in."""
    paths = json.loads(document.read_text())["paths"]
    found: list[tuple[str, str]] = []
    for template, operations in paths.items():
        path = "/".join(
            "x" if segment.startswith("{") else segment for segment in template.split("/")
        )
        found.extend(
            (method.upper(), path) for method, op in operations.items() if "requestBody" in op
        )
    return found


def assert_refused_in_the_error_body(answer: httpx.Response, what: str) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    if answer.status_code >= 400:
        body = answer.json()
        assert {"error", "detail"} <= set(body), f"{what}: {answer.text[:300]}"
        if answer.status_code == 422:
            assert body["error"] == "invalid_input", what
            assert all("loc" in p and "msg" in p for p in body["detail"]), what


class TestHostileCases:
    def test_deep_or_odd_bodies_under_any_content_type_are_refused_cleanly(
        self, stack: Stack, document: Path
    ) -> None:
        key = create_key(stack.env, principal="city:granada", roles=["publisher"])["key"]
        operations = body_operations(document)
        assert len(operations) > 10, "the document lists the write operations"
        with httpx.Client(base_url=stack.url, headers={"X-API-Key": key}, timeout=30) as client:
            for method, path in operations:
                for content_type in ODD_CONTENT_TYPES:
                    for body in ODD_BODIES:
                        answer = client.request(
                            method, path, content=body, headers={"Content-Type": content_type}
                        )
                        what = f"{method} {path} as {content_type!r}, {body[:12]!r}"
                        assert answer.status_code >= 400, what
                        assert_refused_in_the_error_body(answer, what)

    @pytest.mark.parametrize("role", ["publisher", "admin"])
    def test_no_occurred_at_value_gives_a_server_error(self, stack: Stack, role: str) -> None:
        key = create_key(stack.env, principal="city:granada", roles=[role])["key"]
        with httpx.Client(base_url=stack.url, headers={"X-API-Key": key}, timeout=30) as client:

            def send(value: str) -> None:
                answer = client.post("/cities", json={}, headers={"X-UCAP-Occurred-At": value})
                assert_refused_in_the_error_body(answer, f"occurred-at {value!r}")
                assert answer.status_code in {403, 422}, f"{value!r}: {answer.status_code}"

            for value in (*OCCURRED_AT_EDGES, ""):
                send(value)

            @settings(max_examples=200, deadline=None, database=None)
            @given(
                st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).filter(
                    lambda v: v == v.strip()
                )
            )
            def any_value(value: str) -> None:
                send(value)

            any_value()

    def test_dates_at_both_ends_of_the_calendar_are_kept_or_refused_cleanly(
        self, stack: Stack
    ) -> None:
        key = create_key(stack.env, principal="city:granada", roles=["publisher"])["key"]
        with httpx.Client(base_url=stack.url, headers={"X-API-Key": key}, timeout=30) as client:
            for n, on in enumerate(EXTREME_DATES):
                pilot = f"granada-calendar-{n}"
                proposed = client.post(
                    "/pilots",
                    json={
                        "id": pilot,
                        "title": f"Calendar edge {on}",
                        "lead_city_id": "granada",
                        "ucap_id": "granada-ucap",
                    },
                )
                assert proposed.status_code == 201, proposed.text
                writes = (
                    ("/milestones", {"title": f"Edge {on}", "planned_on": on}),
                    (
                        "/progress",
                        {
                            "reported_on": on,
                            "reporting_city_id": "granada",
                            "summary": f"Reported on {on}",
                        },
                    ),
                    ("/funding", {"funder": "Edge fund", "awarded_on": on}),
                )
                for suffix, body in writes:
                    answer = client.post(
                        f"/pilots/{pilot}{suffix}",
                        json=body,
                        headers={"Idempotency-Key": f"{pilot}{suffix}"},
                    )
                    assert_refused_in_the_error_body(answer, f"{suffix} on {on}")
                    assert answer.status_code in {201, 422}, f"{suffix} {on}: {answer.text}"
            for on in (*EXTREME_DATES, "0001-01-01", "9999-12-31"):
                for path in ("/ucaps/granada-ucap/status", "/programme/status"):
                    for format_ in ("json", "markdown"):
                        answer = client.get(path, params={"as_of": on, "format": format_})
                        assert_refused_in_the_error_body(answer, f"{path} as of {on}")
