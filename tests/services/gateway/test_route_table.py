"""The gateway's route table is the services' public API, and it alone decides what is
forwarded: no service document needed (production serves none)."""

import pytest
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tests.support.openapi_documents import document_of
from ucap_gateway.main import create_app
from ucap_gateway.openapi import GATEWAY_OWNED_SUFFIXES, PRIVATE_PREFIXES
from ucap_gateway.route_table import GATEWAY_OPERATIONS, PUBLIC_OPERATIONS
from ucap_gateway.routing import ROUTES, forwarded_index
from ucap_shared.endpoints import refusal

OPERATION_METHODS = ("get", "put", "post", "delete", "patch")


def public_operations(service: str) -> dict[str, set[str]]:
    """What the service's own routes serve under the prefixes the gateway forwards to it."""
    document = document_of(service)
    prefixes = tuple(f"/{prefix}" for prefix, owner in ROUTES.items() if owner == service)
    return {
        path: {method.upper() for method in operations if method in OPERATION_METHODS}
        for path, operations in document["paths"].items()
        if path.startswith(prefixes)
        and not path.startswith(PRIVATE_PREFIXES)
        and not path.endswith(GATEWAY_OWNED_SUFFIXES)
    }


class TestTheTableIsTheServicesRoutes:
    @pytest.mark.parametrize("service", sorted(set(ROUTES.values())))
    def test_each_service_serves_exactly_the_operations_of_its_table(self, service: str) -> None:
        table = {path: set(methods) for path, methods in PUBLIC_OPERATIONS[service].items()}

        assert table == public_operations(service)

    @pytest.mark.parametrize("service", sorted(set(ROUTES.values())))
    def test_every_public_path_of_a_service_has_a_forwarded_prefix(self, service: str) -> None:
        forwarded = tuple(f"/{prefix}" for prefix, owner in ROUTES.items() if owner == service)

        unreachable = [
            path
            for path in document_of(service)["paths"]
            if not path.startswith((*forwarded, *PRIVATE_PREFIXES))
            and not path.endswith(GATEWAY_OWNED_SUFFIXES)
        ]

        assert unreachable == []

    def test_every_forwarded_service_has_a_table(self) -> None:
        assert set(PUBLIC_OPERATIONS) == set(ROUTES.values())


@pytest.fixture(scope="module")
def gateway() -> FastAPI:
    return create_app()


class TestTheTableDecidesWithoutAnyDocument:
    @pytest.mark.parametrize(
        ("method", "path", "allow"),
        [
            ("PUT", "/cities", "GET, POST"),
            ("OPTIONS", "/cities/granada", "GET, PATCH"),
            ("GET", "/pilots/p1/approve", "POST"),
            ("POST", "/ucaps/u1/status", "GET"),
            ("DELETE", "/mous/m1", "GET"),
        ],
    )
    def test_a_method_the_path_does_not_serve_is_405_with_its_methods(
        self, gateway: FastAPI, method: str, path: str, allow: str
    ) -> None:
        refused = refusal(forwarded_index(gateway).matching(path), method)

        assert refused is not None
        assert refused.status_code == 405
        assert refused.headers["Allow"] == allow

    @pytest.mark.parametrize(
        "path", ["/cities/granada/no/such/thing", "/ucaps/u1/ops", "/pilots/p1/metrics"]
    )
    def test_a_path_no_operation_matches_is_404(self, gateway: FastAPI, path: str) -> None:
        refused = refusal(forwarded_index(gateway).matching(path), "GET")

        assert refused is not None
        assert refused.status_code == 404

    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", "/cities"), ("PATCH", "/pilots/p1"), ("DELETE", "/ucaps/u1/activities/a1")],
    )
    def test_an_operation_of_the_table_goes_on(
        self, gateway: FastAPI, method: str, path: str
    ) -> None:
        assert refusal(forwarded_index(gateway).matching(path), method) is None


class TestTheGatewaysOwnOperations:
    @pytest.mark.parametrize("path", sorted(GATEWAY_OPERATIONS))
    def test_each_is_the_gateways_own_route_with_its_methods(
        self, gateway: FastAPI, path: str
    ) -> None:
        own = get_openapi(title=gateway.title, version=gateway.version, routes=gateway.routes)

        served = {m.upper() for m in own["paths"][path] if m in OPERATION_METHODS}
        assert served == set(GATEWAY_OPERATIONS[path])

    @pytest.mark.parametrize("path", sorted(GATEWAY_OPERATIONS))
    def test_none_is_under_a_forwarded_prefix(self, path: str) -> None:
        assert path.split("/")[1] not in ROUTES
