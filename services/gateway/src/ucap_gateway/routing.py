"""The public API of every service under one origin, forwarded as it is."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response

from ucap_gateway.upstreams import Upstreams
from ucap_shared.endpoints import endpoint_index, refusal

# Every method reaches the forwarder, which answers those the API does not serve.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Public path prefix -> the service that owns it. The gateway's own routes
# (U-CAP status, live feed, programme status) are registered before these.
ROUTES = {
    "cities": "cities",
    "mous": "mous",
    "pilots": "pilots",
    "ucaps": "reporting",
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


def _forwarder(service: str) -> Callable[[Request], Awaitable[Response]]:
    async def forward(request: Request) -> Response:
        raw_path = request.scope.get("raw_path")
        path = raw_path.decode("ascii", "replace") if isinstance(raw_path, bytes) else None
        # Until the service's document has come, the service itself answers.
        if path is not None and service in request.app.state.upstream_openapi:
            matching = endpoint_index(request.app).matching(path.partition("?")[0])
            if (refused := refusal(matching, request.method)) is not None:
                return refused
        return await upstreams_of(request).forward(service, request, request.url.path)

    forward.__name__ = f"forward_to_{service}"
    return forward
