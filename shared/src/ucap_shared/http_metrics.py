"""Request rate, errors and duration per route template, for every HTTP service.

Labels name the route's template (``/pilots/{pilot_id}``), never the raw path, so a
scan of random paths adds no series: a path no route matches is ``unmatched``,
and a method outside the usual ones is ``other``. The middleware runs outermost,
so a request the guard refuses (401, 403, 413) is counted too, under the route it
asked for.
"""

import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucap_shared.metrics import HTTP_REQUESTS, HTTP_SECONDS

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other a client invents is ``other`` (no series per name)."""


class HttpMetrics:
    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes
        """The app's routes, read at each request: routes added after start are found too."""

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
            route = self.template(scope)
            method = scope["method"] if scope["method"] in METHODS else "other"
            HTTP_SECONDS.labels(route, method).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(route, method, str(status)).inc()

    def template(self, scope: Scope) -> str:
        """The matched route's path template; for a request answered before routing, the
        template its path matches."""
        route = scope.get("route")
        if route is None:
            route = self._matching(scope)
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else UNMATCHED

    def _matching(self, scope: Scope) -> BaseRoute | None:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route
            if match is Match.PARTIAL and partial is None:
                partial = route
        return partial
