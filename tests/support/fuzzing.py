"""The public API fuzzed with schemathesis from the gateway's merged OpenAPI document.

schemathesis generates requests (examples, boundary and negative cases, then random
ones) and checks every answer: no server error, a documented status code, a body and
headers that match the document, invalid input refused, and nothing served without a
key. ``UCAP_FUZZ_EXAMPLES`` (default 100) and ``UCAP_FUZZ_SEED`` change the run; a
failure prints schemathesis's report with a curl line to reproduce it. Each run is
split by the paths' first segment into ``AREAS`` (the last one: every path the others
leave), so that a failure names its part of the API.
"""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from tests.support.stack import Stack

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
