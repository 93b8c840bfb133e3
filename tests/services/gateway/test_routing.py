"""The gateway forwards the public API to the services, over real HTTP."""

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest

from tests.support.auth import bearer
from tests.support.keys import auth, create_key
from tests.support.processes import RunningService, free_port, run_service
from tests.support.raw_http import raw_request
from tests.support.waiting import polled


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung service."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture(scope="module")
def stack(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, silent_port: int
) -> Iterator[tuple[RunningService, RunningService]]:
    log_dir: Path = tmp_path_factory.mktemp("gateway-logs")
    suffix = uuid.uuid4().hex[:8]
    cities_env = {
        **service_env,
        "UCAP_CITIES_SERVICE_NAME": f"cities-gw-{suffix}",
        "UCAP_CITIES_DATABASE": f"test_gw_cities_{suffix}",
    }
    with run_service("cities", cities_env, log_dir) as cities:
        gateway_env = {
            **service_env,
            "UCAP_GATEWAY_DATABASE": f"test_gw_{suffix}",
            "UCAP_GATEWAY_CITIES_URL": cities.url,
            "UCAP_GATEWAY_MOUS_URL": f"http://127.0.0.1:{free_port()}",
            "UCAP_GATEWAY_PILOTS_URL": f"http://127.0.0.1:{silent_port}",
            "UCAP_GATEWAY_UPSTREAM_TIMEOUT_SECONDS": "1",
        }
        admin = create_key(gateway_env, principal="ops:test", roles=["admin"])["key"]
        with run_service("gateway", gateway_env, log_dir) as gateway:
            gateway.headers = auth(admin)
            yield gateway, cities


def city(city_id: str) -> dict[str, object]:
    return {
        "id": city_id,
        "name": "Liuzhou",
        "native_name": "柳州",
        "region": "Guangxi",
        "country": "CN",
        "world_region": "Asia",
        "population": {"known": False},
        "clusters": ["Smart City"],
    }


class TestForwarding:
    def test_a_write_and_a_read_through_the_gateway_reach_the_owning_service(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, cities = stack
        city_id = f"liuzhou-{uuid.uuid4().hex[:6]}"

        created = httpx.post(
            f"{gateway.url}/cities",
            json=city(city_id),
            headers={**gateway.headers, "X-Correlation-ID": "gw-1"},
        )
        via_gateway = httpx.get(f"{gateway.url}/cities/{city_id}", headers=gateway.headers)
        direct = httpx.get(f"{cities.url}/cities/{city_id}", headers=bearer("cities"))
        history = httpx.get(f"{gateway.url}/cities/{city_id}/history", headers=gateway.headers)
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(cities.env["MONGODB_URI"])
        with client as mongo:
            stored = mongo[cities.env["UCAP_CITIES_DATABASE"]]["events"].find_one(
                {"aggregate_id": city_id}
            )

        assert created.status_code == 201, created.text
        assert via_gateway.status_code == 200
        assert via_gateway.json() == direct.json()
        assert via_gateway.json()["native_name"] == "柳州"
        assert history.json()[0]["type"] == "ucap.city.registered.v1"
        assert stored is not None
        assert stored["events"][0]["correlationid"] == "gw-1"

    def test_upstream_errors_pass_through_with_their_status_and_body(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, cities = stack
        missing = httpx.get(f"{gateway.url}/cities/no-such-city", headers=gateway.headers)
        invalid = httpx.post(f"{gateway.url}/cities", headers=gateway.headers, json={"id": "x"})

        assert missing.status_code == 404
        assert (
            missing.json()
            == httpx.get(f"{cities.url}/cities/no-such-city", headers=bearer("cities")).json()
        )
        assert invalid.status_code == 422
        assert len(invalid.json()["detail"]) > 1, "every invalid field is named"

    def test_a_service_that_is_down_gives_502_naming_it(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, _ = stack
        answer = httpx.get(f"{gateway.url}/mous", headers=gateway.headers)

        assert answer.status_code == 502
        assert answer.json()["service"] == "mous"
        assert "unavailable" in answer.json()["detail"]

    def test_a_service_that_hangs_gives_504_within_the_timeout(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, _ = stack
        answer = httpx.get(f"{gateway.url}/pilots", headers=gateway.headers, timeout=10)

        assert answer.status_code == 504
        assert answer.json()["error"] == "upstream_timeout"
        assert answer.json()["service"] == "pilots"


class TestMergedOpenApi:
    def test_lists_the_services_public_paths_under_one_document(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, _ = stack

        async def document() -> dict[str, object]:
            async with httpx.AsyncClient() as client:
                for _ in range(100):
                    answer = (
                        await client.get(f"{gateway.url}/openapi.json", headers=gateway.headers)
                    ).json()
                    if "/cities" in answer["paths"]:
                        return dict(answer)
                    await asyncio.sleep(0.1)
            raise TimeoutError("the cities paths never appeared")

        merged = asyncio.run(document())
        paths = merged["paths"]
        assert isinstance(paths, dict)
        assert "/cities/{city_id}" in paths or any(p.startswith("/cities/{") for p in paths)
        assert not any(
            p.startswith(("/health/ready", "/ops", "/metrics")) and "cities" in p for p in paths
        )
        schemas = merged["components"]["schemas"]  # type: ignore[index]
        assert any(name.startswith("cities_") for name in schemas)


def merged_document(gateway: RunningService) -> dict[str, Any]:
    """The gateway's document once the cities part is in (the other services are down)."""
    answer: dict[str, Any] = polled(
        lambda: httpx.get(f"{gateway.url}/openapi.json", headers=gateway.headers).json(),
        lambda document: "/cities" in document["paths"],
        timeout=15,
        interval=0.1,
    )
    assert "/cities" in answer["paths"], "the cities paths never appeared"
    return answer


class TestOnlyDocumentedOperationsAreServed:
    def test_a_method_the_path_does_not_serve_is_405_with_exactly_its_methods(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, _ = stack
        merged_document(gateway)

        put = httpx.put(f"{gateway.url}/cities", headers=gateway.headers, json={})
        options = httpx.options(f"{gateway.url}/cities/granada", headers=gateway.headers)

        assert put.status_code == 405
        assert put.headers["allow"] == "GET, POST"
        assert put.json()["error"] == "method_not_allowed"
        assert options.status_code == 405
        assert options.headers["allow"] == "GET, PATCH"

    def test_a_path_no_operation_matches_is_404_from_the_gateway(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, _ = stack
        merged_document(gateway)

        answer = httpx.get(f"{gateway.url}/cities/granada/no/such/thing", headers=gateway.headers)

        assert answer.status_code == 404
        assert answer.json() == {"error": "not_found", "detail": "no such endpoint in this API"}

    def test_a_header_value_that_is_not_ascii_is_passed_on_not_a_500(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, _ = stack
        headers = [(k.encode(), v.encode()) for k, v in gateway.headers.items()]

        answer = httpx.get(
            f"{gateway.url}/cities/no-such-city",
            headers=[*headers, (b"X-Note", "Zhèngzhōu".encode())],
        )

        assert answer.status_code == 404
        assert answer.headers.get_list("date") == [answer.headers["date"]], "one Date header"


class TestDocumentedAnswers:
    def test_every_operation_but_health_documents_the_gateways_own_refusals(
        self, stack: tuple[RunningService, RunningService]
    ) -> None:
        gateway, _ = stack
        document = merged_document(gateway)

        undocumented = [
            (method, path, code)
            for path, operations in document["paths"].items()
            if not path.startswith("/health")
            for method, operation in operations.items()
            for code in ("401", "429")
            if code not in operation["responses"]
        ]

        assert undocumented == []
        assert document["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
        assert document["paths"]["/health/live"]["get"]["security"] == []


class TestDotSegmentsAreRefusedInDevelopmentToo:
    @pytest.mark.parametrize(
        "path",
        [
            "/cities/../ops/relay",
            "/cities/%2e%2e/ops/relay",
            "/cities/%2E./ops/relay",
            "/cities/granada%2fhistory",
            "/ucaps/u1/../../metrics",
        ],
    )
    def test_a_path_that_resolves_elsewhere_is_404_and_not_forwarded(
        self, stack: tuple[RunningService, RunningService], path: str
    ) -> None:
        gateway, _ = stack
        answer = raw_request(gateway.url, "GET", path, gateway.headers)

        assert answer.status == 404, answer.body
        assert set(answer.json()) == {"error", "detail"}
        assert b"backlog" not in answer.body
