"""Hostile input against a gateway and a service in production mode, as real processes:
paths that resolve elsewhere, operations data, failed authentications, bodies announced
before a key, request heads too large or too slow, and correlation ids."""

import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest

from tests.support.keys import auth, create_key
from tests.support.processes import RunningService, free_port, run_service
from tests.support.raw_http import answer_to_head, raw_request, read_until_closed, status_of
from tests.support.waiting import polled
from ucap_shared.auth import Principal, Role, issue_token

TOKEN_KEY = "hostile-input-production-key-" + "k" * 20
FAILURES_BURST = 3
HEAD_BYTES = 8192
HEAD_SECONDS = 2
CONCURRENCY = 8
UNKNOWN_KEY = "ucap_000000000000_" + "x" * 43


@dataclass
class Production:
    gateway: RunningService
    cities: RunningService
    env: dict[str, str]
    admin_key: str


@pytest.fixture(scope="module")
def production(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Production]:
    log_dir: Path = tmp_path_factory.mktemp("hostile-logs")
    suffix = uuid.uuid4().hex[:8]
    env = {
        **service_env,
        "UCAP_ENV": "production",
        "UCAP_TOKEN_KEY": TOKEN_KEY,
        "UCAP_CITIES_DATABASE": f"test_hostile_cities_{suffix}",
    }
    with run_service("cities", env, log_dir) as cities:
        gateway_env = {
            **env,
            "UCAP_GATEWAY_DATABASE": f"test_hostile_{suffix}",
            "UCAP_GATEWAY_CITIES_URL": cities.url,
            "UCAP_GATEWAY_MOUS_URL": f"http://127.0.0.1:{free_port()}",
            "UCAP_GATEWAY_PILOTS_URL": f"http://127.0.0.1:{free_port()}",
            "UCAP_GATEWAY_REPORTING_URL": f"http://127.0.0.1:{free_port()}",
            "UCAP_GATEWAY_AUTH_FAILURES_BURST": str(FAILURES_BURST),
            "UCAP_GATEWAY_AUTH_FAILURES_PER_SECOND": "0.01",
            "UCAP_HTTP_MAX_HEAD_BYTES": str(HEAD_BYTES),
            "UCAP_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_SECONDS),
            "UCAP_HTTP_LIMIT_CONCURRENCY": str(CONCURRENCY),
        }
        admin = create_key(gateway_env, principal="ops:test", roles=["admin"])["key"]
        with run_service("gateway", gateway_env, log_dir) as gateway:
            gateway.headers = auth(admin)
            yield Production(gateway, cities, gateway_env, admin)


def from_address(address: str, key: str | None = None) -> dict[str, str]:
    """As a client at ``address`` (the gateway trusts its local proxy's X-Forwarded-For)."""
    return {"X-Forwarded-For": address, **({"X-API-Key": key} if key else {})}


def production_token(audience: str, *roles: Role, city: str | None = None) -> dict[str, str]:
    subject = f"city:{city}" if city else "ops:test"
    principal = Principal(subject=subject, city_id=city, roles=frozenset(roles))
    token = issue_token(principal, audience=audience, key=TOKEN_KEY)
    return {"Authorization": f"Bearer {token}"}


def assert_one_error_body(body: Any) -> None:
    assert isinstance(body, dict), body
    assert set(body) == {"error", "detail"}, body


DOT_PATHS = [
    "/cities/../ops/relay",
    "/cities/./../ops/relay",
    "/cities/%2e%2e/ops/relay",
    "/cities/%2E%2E/ops/relay",
    "/cities/%2E./ops/relay",
    "/cities/.%2e/ops/relay",
    "/cities/granada/%2e%2e/%2e%2e/ops/relay",
    "/cities/x%2f..%2f..%2fops%2frelay",
    "/cities/granada%2Fhistory",
    "/ucaps/u1/../../metrics",
]


class TestRoutingInProduction:
    def test_an_unknown_path_is_404_and_a_wrong_method_405_from_the_table(
        self, production: Production
    ) -> None:
        gateway = production.gateway
        unknown = httpx.get(f"{gateway.url}/cities/granada/no/such/thing", headers=gateway.headers)
        put = httpx.put(f"{gateway.url}/cities", headers=gateway.headers, json={})
        delete = httpx.delete(f"{gateway.url}/mous/m1", headers=gateway.headers)

        assert unknown.status_code == 404
        assert unknown.json() == {"error": "not_found", "detail": "no such endpoint in this API"}
        assert put.status_code == 405
        assert put.headers["allow"] == "GET, POST"
        assert delete.status_code == 405, "the MoUs service is down: the gateway answered"
        assert delete.headers["allow"] == "GET"

    @pytest.mark.parametrize("path", DOT_PATHS)
    def test_a_dot_segment_or_encoded_slash_is_404_at_the_gateway(
        self, production: Production, path: str
    ) -> None:
        answer = raw_request(production.gateway.url, "GET", path, production.gateway.headers)

        assert answer.status == 404, answer.body
        assert_one_error_body(answer.json())
        assert b"backlog" not in answer.body

    @pytest.mark.parametrize("path", DOT_PATHS[:8])
    def test_a_dot_segment_or_encoded_slash_is_404_at_a_service(
        self, production: Production, path: str
    ) -> None:
        headers = production_token("cities", Role.ADMIN)
        answer = raw_request(production.cities.url, "GET", path, headers)

        assert answer.status == 404, answer.body
        assert_one_error_body(answer.json())


class TestOperationsDataNeedsAnAdmin:
    @pytest.mark.parametrize("path", ["/ops/relay", "/ops/freshness", "/metrics"])
    def test_a_service_answers_401_without_a_token_403_to_others_200_to_an_admin(
        self, production: Production, path: str
    ) -> None:
        url = f"{production.cities.url}{path}"
        anonymous = httpx.get(url)
        as_reader = httpx.get(url, headers=production_token("cities", Role.READER))
        as_city = httpx.get(url, headers=production_token("cities", Role.PUBLISHER, city="granada"))
        as_admin = httpx.get(url, headers=production_token("cities", Role.ADMIN))

        assert anonymous.status_code == 401
        assert as_reader.status_code == 403
        assert as_city.status_code == 403
        assert as_admin.status_code == 200, as_admin.text
        for refused in (anonymous, as_reader, as_city):
            assert_one_error_body(refused.json())

    def test_the_gateways_metrics_need_an_admins_key(self, production: Production) -> None:
        gateway = production.gateway
        reader = create_key(production.env, principal="iuc", roles=["reader"])["key"]

        assert httpx.get(f"{gateway.url}/metrics").status_code == 401
        assert httpx.get(f"{gateway.url}/metrics", headers=auth(reader)).status_code == 403
        assert httpx.get(f"{gateway.url}/metrics", headers=gateway.headers).status_code == 200


class TestFailedAuthenticationsPerAddress:
    def test_past_the_burst_an_address_gets_429_with_retry_after(
        self, production: Production
    ) -> None:
        url = f"{production.gateway.url}/cities"
        address = "198.51.100.7"
        failures = [
            httpx.get(url, headers=from_address(address, UNKNOWN_KEY)).status_code
            for _ in range(FAILURES_BURST)
        ]
        limited = httpx.get(url, headers=from_address(address, UNKNOWN_KEY))
        elsewhere = httpx.get(url, headers=from_address("198.51.100.8", UNKNOWN_KEY))

        assert failures == [401] * FAILURES_BURST
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"] == "too_many_failures"
        assert_one_error_body(limited.json())
        assert elsewhere.status_code == 401, "another address is not held back"

    def test_a_key_seen_valid_still_works_from_a_held_back_address(
        self, production: Production
    ) -> None:
        url = f"{production.gateway.url}/cities"
        address = "198.51.100.9"
        assert httpx.get(
            url, headers=from_address("198.51.100.10", production.admin_key)
        ).is_success
        for _ in range(FAILURES_BURST + 1):
            httpx.get(url, headers=from_address(address, UNKNOWN_KEY))

        assert httpx.get(url, headers=from_address(address, UNKNOWN_KEY)).status_code == 429
        assert httpx.get(url, headers=from_address(address, production.admin_key)).is_success

    def test_a_key_that_does_not_read_like_one_costs_nothing_and_is_not_counted(
        self, production: Production
    ) -> None:
        url = f"{production.gateway.url}/cities"
        codes = {
            httpx.get(url, headers=from_address("198.51.100.11", "not-a-key")).status_code
            for _ in range(FAILURES_BURST * 3)
        }

        assert codes == {401}

    def test_log_in_attempts_past_the_burst_get_429(self, production: Production) -> None:
        url = f"{production.gateway.url}/login"
        headers = {
            **from_address("198.51.100.12"),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        attempts = [
            httpx.post(url, content=f"key={UNKNOWN_KEY}", headers=headers).status_code
            for _ in range(FAILURES_BURST)
        ]
        limited = httpx.post(url, content=f"key={UNKNOWN_KEY}", headers=headers)
        unread = answer_to_head(
            production.gateway.url,
            b"POST /login HTTP/1.1\r\nHost: test\r\nX-Forwarded-For: 198.51.100.12\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
            timeout=5,
        )

        assert attempts == [401] * FAILURES_BURST
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert_one_error_body(limited.json())
        assert status_of(unread) == 429, "held back before its body is read"


MIB = 1024 * 1024


class TestNoBodyIsReadBeforeTheCaller:
    @pytest.mark.parametrize("target", ["gateway", "cities"])
    def test_an_unauthenticated_mebibyte_announced_gets_401_without_being_sent(
        self, production: Production, target: str
    ) -> None:
        service = production.gateway if target == "gateway" else production.cities
        head = (
            f"POST /cities HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {MIB}\r\n\r\n"
        ).encode()
        started = time.monotonic()
        answer = answer_to_head(service.url, head, timeout=5)

        assert status_of(answer) == 401, answer[:300]
        assert time.monotonic() - started < 5


class TestRequestHeadLimits:
    def test_a_head_past_the_limit_is_431_and_closed(self, production: Production) -> None:
        big = "a" * (HEAD_BYTES * 4)
        head = f"GET /health/live HTTP/1.1\r\nHost: test\r\nX-Big: {big}\r\n\r\n".encode()

        answer = answer_to_head(production.gateway.url, head, timeout=5)

        assert status_of(answer) == 431, answer[:300]

    @pytest.mark.parametrize("server", ["gateway", "cities"])
    def test_bodies_far_past_the_head_limit_are_not_counted_as_heads(
        self, production: Production, server: str
    ) -> None:
        service = getattr(production, server)
        headers = service.headers if server == "gateway" else production_token("cities", Role.ADMIN)
        body = {"id": "x" * (HEAD_BYTES * 8)}
        with httpx.Client(base_url=service.url, headers=headers, timeout=10) as client:
            answers = [client.post("/cities", json=body) for _ in range(6)]

        assert [answer.status_code for answer in answers] == [422] * 6
        assert_one_error_body(answers[-1].json())

    def test_a_head_not_finished_in_time_is_408_and_closed(self, production: Production) -> None:
        host, port = production.gateway.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: test\r\n")
            started = time.monotonic()
            answer = read_until_closed(sock, timeout=HEAD_SECONDS + 5)
            took = time.monotonic() - started

        assert status_of(answer) == 408, answer[:300]
        assert HEAD_SECONDS - 0.5 <= took < HEAD_SECONDS + 5

    def test_past_the_concurrency_limit_a_request_is_503_until_connections_close(
        self, production: Production
    ) -> None:
        host, port = production.gateway.url.removeprefix("http://").split(":")
        url = f"{production.gateway.url}/health/live"
        held = [socket.create_connection((host, int(port))) for _ in range(CONCURRENCY)]
        try:
            refused = httpx.get(url)
        finally:
            for connection in held:
                connection.close()
        served = polled(lambda: httpx.get(url), lambda a: a.status_code == 200, timeout=10)

        assert refused.status_code == 503
        assert_one_error_body(refused.json())
        assert served.status_code == 200


class TestCorrelationIds:
    def test_an_odd_correlation_id_is_replaced_in_the_answer_and_the_event(
        self, production: Production
    ) -> None:
        gateway = production.gateway
        city_id = f"hostile-{uuid.uuid4().hex[:6]}"
        odd = "x" * 500 + " <script>"
        created = httpx.post(
            f"{gateway.url}/cities",
            json={
                "id": city_id,
                "name": "Hostile",
                "country": "ES",
                "world_region": "Europe",
                "population": {"known": False},
            },
            headers={**gateway.headers, "X-Correlation-ID": odd},
        )
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            production.env["MONGODB_URI"]
        )
        with client as mongo:
            stored = mongo[production.env["UCAP_CITIES_DATABASE"]]["events"].find_one(
                {"aggregate_id": city_id}
            )

        assert created.status_code == 201, created.text
        used = created.headers["X-Correlation-ID"]
        assert used != odd
        assert len(used) == 36
        assert stored is not None
        assert stored["events"][0]["correlationid"] == used
