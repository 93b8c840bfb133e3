"""Every refusal through the gateway, a 422 included, is the one error body.

A 422 from each service (passed on by the gateway) and from the gateway itself is
``{"error": "invalid_input", "detail": [{"loc", "msg", "type"}, ...]}``; a 404 is
``{"error": "not_found", "detail": "..."}`` and nothing more.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.stack import Stack, running_stack

# An empty body to each service's create route: each names the fields it lacks.
CREATES = {
    "cities": "/cities",
    "mous": "/mous",
    "pilots": "/pilots",
    "reporting": "/ucaps",
}
MISSING = {
    "cities": "/cities/no-such-city",
    "mous": "/mous/no-such-mou",
    "pilots": "/pilots/no-such-pilot",
    "reporting": "/ucaps/no-such-ucap",
}


@pytest.fixture(scope="module")
def stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir: Path = tmp_path_factory.mktemp("error-body-logs")
    with running_stack(service_env, log_dir) as running:
        yield running


def assert_invalid_input(answer: httpx.Response) -> list[dict[str, object]]:
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == "invalid_input"
    assert body["detail"]
    for problem in body["detail"]:
        assert set(problem) == {"loc", "msg", "type"}, problem
    problems: list[dict[str, object]] = body["detail"]
    return problems


class TestA422:
    @pytest.mark.parametrize("service", sorted(CREATES))
    def test_from_each_service_is_the_one_body(self, stack: Stack, service: str) -> None:
        answer = httpx.post(f"{stack.url}{CREATES[service]}", json={}, headers=stack.headers)

        problems = assert_invalid_input(answer)
        assert all(problem["loc"][0] == "body" for problem in problems)  # type: ignore[index]

    def test_from_the_gateway_itself_is_the_one_body(self, stack: Stack) -> None:
        answer = httpx.get(
            f"{stack.url}/ucaps/any/status", params={"as_of": "soon"}, headers=stack.headers
        )

        problems = assert_invalid_input(answer)
        assert problems[0]["loc"] == ["query", "as_of"]

    def test_of_a_body_that_is_not_json_is_the_one_body(self, stack: Stack) -> None:
        answer = httpx.post(
            f"{stack.url}/cities",
            content=b"{not json",
            headers={**stack.headers, "Content-Type": "application/json"},
        )

        assert_invalid_input(answer)


class TestA404:
    @pytest.mark.parametrize("service", sorted(MISSING))
    def test_from_each_service_is_error_and_detail_only(self, stack: Stack, service: str) -> None:
        answer = httpx.get(f"{stack.url}{MISSING[service]}", headers=stack.headers)

        assert answer.status_code == 404, answer.text
        body = answer.json()
        assert set(body) == {"error", "detail"}
        assert body["error"] == "not_found"
        assert "no-such" in body["detail"]

    def test_of_a_path_nothing_serves_is_error_and_detail_only(self, stack: Stack) -> None:
        answer = httpx.get(f"{stack.url}/nothing-here", headers=stack.headers)

        assert answer.status_code == 404, answer.text
        assert set(answer.json()) == {"error", "detail"}
