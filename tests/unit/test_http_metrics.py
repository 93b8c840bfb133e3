"""Requests are counted per route template, never per raw path or invented method; a
request answered before any route (refused, or no route matches) is ``unrouted``."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.types import ASGIApp, Receive, Scope, Send

from ucap_shared.http_metrics import HttpMetrics


def counted(route: str, method: str, status: int) -> float:
    labels = {"route": route, "method": method, "status": str(status)}
    return REGISTRY.get_sample_value("ucap_http_requests_total", labels) or 0.0


def timed(route: str, method: str) -> float:
    labels = {"route": route, "method": method}
    return REGISTRY.get_sample_value("ucap_http_request_duration_seconds_count", labels) or 0.0


class RefusingSecrets:
    """Answers 401 for ``/secrets/...`` before any route runs, as the request guard does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/secrets/"):
            await JSONResponse({"error": "unauthenticated"}, status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def instrumented() -> TestClient:
    app = FastAPI()

    @app.get("/widgets/{widget_id}")
    async def widget(widget_id: str) -> dict[str, str]:
        if widget_id == "broken":
            raise RuntimeError("broken widget")
        return {"id": widget_id}

    @app.get("/secrets/{secret_id}")
    async def secret(secret_id: str) -> dict[str, str]:
        return {"id": secret_id}

    app.add_middleware(RefusingSecrets)
    app.add_middleware(HttpMetrics)
    return TestClient(app, raise_server_exceptions=False)


class TestRequestMetrics:
    def test_requests_count_under_the_route_template(self) -> None:
        before = counted("/widgets/{widget_id}", "GET", 200)
        before_timed = timed("/widgets/{widget_id}", "GET")
        with instrumented() as client:
            for widget_id in ("a", "b", "c"):
                assert client.get(f"/widgets/{widget_id}").status_code == 200

        assert counted("/widgets/{widget_id}", "GET", 200) - before == 3
        assert timed("/widgets/{widget_id}", "GET") - before_timed == 3
        assert (
            REGISTRY.get_sample_value(
                "ucap_http_requests_total",
                {"route": "/widgets/a", "method": "GET", "status": "200"},
            )
            is None
        )

    def test_a_failing_handler_counts_as_a_500(self) -> None:
        before = counted("/widgets/{widget_id}", "GET", 500)
        with instrumented() as client:
            assert client.get("/widgets/broken").status_code == 500

        assert counted("/widgets/{widget_id}", "GET", 500) - before == 1

    def test_a_refusal_before_routing_counts_as_unrouted_with_its_status(self) -> None:
        before = counted("unrouted", "GET", 401)
        with instrumented() as client:
            assert client.get("/secrets/s1").status_code == 401

        assert counted("unrouted", "GET", 401) - before == 1
        assert counted("/secrets/{secret_id}", "GET", 401) == 0

    def test_unknown_paths_and_invented_methods_add_no_series(self) -> None:
        before_paths = counted("unrouted", "GET", 404)
        before_methods = counted("/widgets/{widget_id}", "other", 405)
        with instrumented() as client:
            for n in range(5):
                assert client.get(f"/scan/{n}").status_code == 404
            assert client.request("BREW", "/widgets/a").status_code == 405

        assert counted("unrouted", "GET", 404) - before_paths == 5
        assert counted("/widgets/{widget_id}", "other", 405) - before_methods == 1
        assert (
            REGISTRY.get_sample_value(
                "ucap_http_requests_total",
                {"route": "unrouted", "method": "BREW", "status": "405"},
            )
            is None
        )
