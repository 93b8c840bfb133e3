"""What schemathesis does not generate from the document: bodies nested 5,000 deep or
not text at all under any content type, any ``X-UCAP-Occurred-At`` value from any key,
and dates at both ends of the calendar in every kind of date field, each answered
without a server error and, when refused, in the one error body."""

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.hostile import DEEP_ARRAY, DEEP_OBJECT, OCCURRED_AT_EDGES, ODD_CONTENT_TYPES
from tests.support.keys import create_key
from tests.support.stack import Stack

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
