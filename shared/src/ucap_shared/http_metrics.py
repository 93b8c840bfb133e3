"""Request rate, errors and duration per route template, for every HTTP service.

Labels name the matched route's template (``/pilots/{pilot_id}``), never the raw
path, so a scan of random paths adds no series. A request answered without
reaching a route is ``unrouted``: no route matches it (404), or the guard or the
gateway's gatekeeper refused it first (401, 403, 413 …); its status tells which.
A method outside the usual ones is ``other``. The middleware runs outermost, so
every answer is counted.
"""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucap_shared.metrics import HTTP_REQUESTS, HTTP_SECONDS

UNROUTED = "unrouted"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other a client invents is ``other`` (no series per name)."""


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = route_template(scope)
            method = scope["method"] if scope["method"] in METHODS else "other"
            HTTP_SECONDS.labels(route, method).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(route, method, str(status)).inc()


def route_template(scope: Scope) -> str:
    """The path template of the route the router chose (it leaves it in the scope)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNROUTED
