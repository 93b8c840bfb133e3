"""The checks every service's app makes before a route runs, against hostile input:
dating headers, deep bodies under any content type, correlation ids, dot segments,
and who may read operations data. In memory: no lifespan, no infrastructure."""

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.support.auth import ADMIN, bearer, city_publisher, reader
from tests.support.hostile import DEEP_ARRAY, DEEP_OBJECT, OCCURRED_AT_EDGES, ODD_CONTENT_TYPES
from ucap_shared.app import ServiceDefinition, build_service_app
from ucap_shared.auth import Principal, issue_token
from ucap_shared.endpoints import unsafe_path
from ucap_shared.logs import correlation_id, occurred_at
from ucap_shared.request_context import checked_correlation_id
from ucap_shared.settings import ServiceSettings

SERVICE = "guarded"
PRODUCTION_KEY = "a-production-signing-key-of-40-characters"
CONTENT_TYPES = ("application/json", *ODD_CONTENT_TYPES)


class Note(BaseModel):
    text: str


def guarded_app(*, production: bool = False) -> FastAPI:
    router = APIRouter()

    @router.post("/notes")
    async def note(body: Note) -> dict[str, Any]:
        when = occurred_at.get()
        return {"correlation_id": correlation_id.get(), "occurred_at": when and when.isoformat()}

    @router.get("/notes/{note_id}")
    async def read_note(note_id: str) -> dict[str, str]:
        return {"id": note_id}

    @router.get("/recursive")
    async def recursive() -> None:
        raise RecursionError("maximum recursion depth exceeded")

    @router.get("/ops/of-its-own")
    async def operations_of_its_own() -> dict[str, str]:
        return {"state": "fine"}

    environment = {"UCAP_ENV": "production", "UCAP_TOKEN_KEY": PRODUCTION_KEY} if production else {}
    settings = ServiceSettings.model_validate({"service_name": SERVICE, **environment})
    return build_service_app(settings, ServiceDefinition("guarded", "guarded", routers=[router]))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=guarded_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://guarded", headers=bearer(SERVICE)
    ) as client:
        yield client


def as_(principal: Principal) -> dict[str, str]:
    return bearer(SERVICE, principal)


def assert_one_error_body(answer: httpx.Response) -> None:
    assert answer.status_code < 500, answer.text
    assert set(answer.json()) == {"error", "detail"}, answer.text


class TestOccurredAtIsReadOnlyForAnAdmin:
    async def test_a_non_admin_is_refused_whatever_the_value(
        self, client: httpx.AsyncClient
    ) -> None:
        for value in (*OCCURRED_AT_EDGES, "2018-07"):
            answer = await client.post(
                "/notes",
                json={"text": "x"},
                headers={"X-UCAP-Occurred-At": value, **as_(city_publisher("granada"))},
            )
            assert answer.status_code == 403, (value, answer.text)
            assert_one_error_body(answer)

    async def test_an_admin_gets_422_naming_the_header_for_a_value_out_of_range(
        self, client: httpx.AsyncClient
    ) -> None:
        for value in OCCURRED_AT_EDGES:
            answer = await client.post(
                "/notes", json={"text": "x"}, headers={"X-UCAP-Occurred-At": value}
            )
            assert answer.status_code == 422, (value, answer.text)
            assert answer.json()["detail"][0]["loc"] == ["header", "X-UCAP-Occurred-At"]
            assert_one_error_body(answer)

    async def test_an_admin_dates_what_it_records(self, client: httpx.AsyncClient) -> None:
        answer = await client.post(
            "/notes", json={"text": "x"}, headers={"X-UCAP-Occurred-At": "2018-07"}
        )

        assert answer.status_code == 200
        assert answer.json()["occurred_at"] == "2018-07-01T12:00:00+00:00"

    @settings(
        max_examples=3 * settings().max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(value=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
    async def test_no_value_gives_a_server_error(self, value: str) -> None:
        transport = httpx.ASGITransport(app=guarded_app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://guarded", headers=bearer(SERVICE, ADMIN)
        ) as client:
            answer = await client.post(
                "/notes", json={"text": "x"}, headers={"X-UCAP-Occurred-At": value}
            )

        assert answer.status_code in {200, 422}, (value, answer.text)


class TestEveryBodyIsCheckedForDepth:
    @pytest.mark.parametrize("content_type", CONTENT_TYPES)
    @pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
    async def test_a_deep_body_is_422_under_any_content_type(
        self, client: httpx.AsyncClient, content_type: str, body: bytes
    ) -> None:
        headers = {"Content-Type": content_type} if content_type else {}
        answer = await client.post("/notes", content=body, headers=headers)

        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["type"] == "depth"
        assert_one_error_body(answer)

    async def test_a_recursion_error_further_in_is_422_not_500(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.get("/recursive")

        assert answer.status_code == 422
        assert_one_error_body(answer)


class TestCorrelationIds:
    @pytest.mark.parametrize("given_id", ["req-42", "gw-1", "a.b:c_d-E9", "x" * 128])
    async def test_a_plain_short_id_is_kept(self, client: httpx.AsyncClient, given_id: str) -> None:
        answer = await client.post(
            "/notes", json={"text": "x"}, headers={"X-Correlation-ID": given_id}
        )

        assert answer.json()["correlation_id"] == given_id
        assert answer.headers["X-Correlation-ID"] == given_id

    @pytest.mark.parametrize(
        "given_id", ["x" * 129, "has space", "<script>", "a/b", "semi;colon", 'quote"d']
    )
    async def test_any_other_is_replaced_by_a_fresh_one_and_logged(
        self, client: httpx.AsyncClient, given_id: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="ucap_shared.request_context"):
            answer = await client.post(
                "/notes", json={"text": "x"}, headers={"X-Correlation-ID": given_id}
            )

        used = answer.json()["correlation_id"]
        assert used != given_id
        assert len(used) == 36
        assert answer.headers["X-Correlation-ID"] == used
        assert any(record.getMessage() == "correlation id replaced" for record in caplog.records)

    def test_a_missing_id_is_a_fresh_one(self) -> None:
        assert len(checked_correlation_id(None)) == 36


class TestDotSegments:
    @pytest.mark.parametrize(
        "path",
        [
            "/notes/../ops/relay",
            "/notes/./x",
            "/notes/%2e%2e/ops",
            "/notes/%2E%2E/ops",
            "/notes/%2E./ops",
            "/notes/.%2e/ops",
            "/notes/%2e",
            "/notes/a%2fb",
            "/notes/a%2Fb",
            "/notes/a%5cb",
        ],
    )
    def test_are_unsafe(self, path: str) -> None:
        assert unsafe_path(path)

    @pytest.mark.parametrize(
        "path", ["/notes", "/notes/x", "/notes/a.b", "/notes/...", "/notes/%252e%252e", "/"]
    )
    def test_plain_paths_are_safe(self, path: str) -> None:
        assert not unsafe_path(path)

    @pytest.mark.parametrize("path", ["/notes/%2e%2e", "/notes/%2E.", "/notes/a%2fb"])
    async def test_a_service_answers_404_to_an_encoded_one(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        answer = await client.get(path)

        assert answer.status_code == 404
        assert_one_error_body(answer)


class TestOperationsDataNeedsAnAdmin:
    @pytest.mark.parametrize("path", ["/ops/relay", "/ops/freshness", "/metrics"])
    async def test_in_production_no_token_401_another_role_403(self, path: str) -> None:
        transport = httpx.ASGITransport(app=guarded_app(production=True))
        async with httpx.AsyncClient(transport=transport, base_url="http://guarded") as client:
            anonymous = await client.get(path)
            as_reader = await client.get(path, headers=production_bearer(reader()))
            as_publisher = await client.get(
                path, headers=production_bearer(city_publisher("granada"))
            )
            development_token = await client.get(path, headers=bearer(SERVICE))

        assert anonymous.status_code == 401
        assert as_reader.status_code == 403
        assert as_publisher.status_code == 403
        assert development_token.status_code == 401
        for answer in (anonymous, as_reader, as_publisher):
            assert_one_error_body(answer)

    async def test_an_operations_route_a_service_adds_itself_is_for_admins_too(self) -> None:
        transport = httpx.ASGITransport(app=guarded_app(production=True))
        async with httpx.AsyncClient(transport=transport, base_url="http://guarded") as client:
            as_reader = await client.get("/ops/of-its-own", headers=production_bearer(reader()))
            as_admin = await client.get("/ops/of-its-own", headers=production_bearer(ADMIN))

        assert as_reader.status_code == 403
        assert_one_error_body(as_reader)
        assert as_admin.json() == {"state": "fine"}

    async def test_in_production_an_admin_reads_the_metrics(self) -> None:
        transport = httpx.ASGITransport(app=guarded_app(production=True))
        async with httpx.AsyncClient(transport=transport, base_url="http://guarded") as client:
            answer = await client.get("/metrics", headers=production_bearer(ADMIN))

        assert answer.status_code == 200
        assert "ucap_events_appended_total" in answer.text


def production_bearer(principal: Principal) -> dict[str, str]:
    token = issue_token(principal, audience=SERVICE, key=PRODUCTION_KEY)
    return {"Authorization": f"Bearer {token}"}
