"""The public API of every service under one origin, forwarded as it is.

Only the operations of the route table are forwarded (an unknown path 404, a
method its path does not serve 405 with the exact ``Allow``), whether or not
the services' documents have come.
"""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from ucap_gateway.route_table import PUBLIC_OPERATIONS
from ucap_gateway.upstreams import Upstreams
from ucap_shared.endpoints import EndpointIndex, raw_path_of, refusal

# Every method reaches the forwarder, which answers those the API does not serve.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Public path prefix -> the service that owns it. The gateway's own routes
# (U-CAP status, live feed, programme status) are registered before these.
ROUTES = {
    "cities": "cities",
    "organisations": "cities",
    "mous": "mous",
    "pilots": "pilots",
    "ucaps": "reporting",
    "webhooks": "reporting",
}


def upstreams_of(request: Request) -> Upstreams:
    upstreams: Upstreams = request.app.state.upstreams
    return upstreams


def forwarding_router() -> APIRouter:
    router = APIRouter()
    for prefix, service in ROUTES.items():
        router.add_api_route(
            f"/{prefix}",
            _forwarder(service),
            methods=METHODS,
            include_in_schema=False,
        )
        router.add_api_route(
            f"/{prefix}/{{path:path}}",
            _forwarder(service),
            methods=METHODS,
            include_in_schema=False,
        )
    return router


def forwarded_index(app: FastAPI) -> EndpointIndex:
    """The route table and the gateway's own operations under the forwarded prefixes
    (a U-CAP's status and live feed): a path the forwarder gets may be either's."""
    index: EndpointIndex | None = getattr(app.state, "forwarded_index", None)
    if index is None:
        operations = {
            template: set(methods)
            for table in PUBLIC_OPERATIONS.values()
            for template, methods in table.items()
        }
        prefixes = tuple(f"/{prefix}" for prefix in ROUTES)
        own = get_openapi(title=app.title, version=app.version, routes=app.routes)["paths"]
        for template, methods in own.items():
            if template.startswith(prefixes):
                operations.setdefault(template, set()).update(m.upper() for m in methods)
        index = EndpointIndex.of_operations(operations)
        app.state.forwarded_index = index
    return index


def _forwarder(service: str) -> Callable[[Request], Awaitable[Response]]:
    async def forward(request: Request) -> Response:
        path = raw_path_of(request.scope).partition("?")[0]
        matching = forwarded_index(request.app).matching(path)
        if (refused := refusal(matching, request.method)) is not None:
            return refused
        return await upstreams_of(request).forward(service, request, request.url.path)

    forward.__name__ = f"forward_to_{service}"
    return forward
