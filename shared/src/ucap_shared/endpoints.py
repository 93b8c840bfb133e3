"""Which methods an API serves at a path, read from its OpenAPI document.

The gateway forwards only what its document describes: a path no operation
matches is 404, a method its path does not serve is 405 with the exact
``Allow``. A service names the same methods in its own 405s.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI
from fastapi.responses import JSONResponse

OPERATION_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Endpoint:
    segments: tuple[str | None, ...]
    """Literal segments, and ``None`` where a path parameter stands."""
    methods: frozenset[str]

    @classmethod
    def of(cls, template: str, operations: dict[str, Any]) -> "Endpoint":
        segments = tuple(
            None if part.startswith("{") and part.endswith("}") else part
            for part in template.strip("/").split("/")
        )
        methods = frozenset(m.upper() for m in operations if m in OPERATION_METHODS)
        return cls(segments, methods)

    def matches(self, parts: list[str]) -> bool:
        return len(parts) == len(self.segments) and all(
            expected is None or expected == part
            for expected, part in zip(self.segments, parts, strict=True)
        )

    @property
    def literal_count(self) -> int:
        return sum(segment is not None for segment in self.segments)


class EndpointIndex:
    def __init__(self, document: dict[str, Any]) -> None:
        self._endpoints = [
            Endpoint.of(template, operations)
            for template, operations in document.get("paths", {}).items()
        ]

    @classmethod
    def of_operations(cls, operations: Mapping[str, Iterable[str]]) -> "EndpointIndex":
        """The index of path templates and the methods each serves (``"GET"`` …)."""
        paths: dict[str, dict[str, Any]] = {
            path: {m.lower(): {} for m in methods} for path, methods in operations.items()
        }
        return cls({"paths": paths})

    def matching(self, raw_path: str) -> list[Endpoint]:
        """The endpoints at ``raw_path`` (still percent-encoded), most literal first."""
        parts = raw_path.strip("/").split("/")
        found = [endpoint for endpoint in self._endpoints if endpoint.matches(parts)]
        return sorted(found, key=lambda endpoint: -endpoint.literal_count)


def endpoint_index(app: FastAPI) -> EndpointIndex:
    """The index of ``app``'s document, built again whenever the document changes."""
    document = app.openapi()
    cached: tuple[int, EndpointIndex] | None = getattr(app.state, "endpoint_index", None)
    if cached is None or cached[0] != id(document):
        cached = (id(document), EndpointIndex(document))
        app.state.endpoint_index = cached
    return cached[1]


def allowed_methods(matching: list[Endpoint]) -> str:
    """The ``Allow`` value for a path: the methods of its most literal endpoint."""
    return ", ".join(sorted(matching[0].methods)) if matching else ""


def refusal(matching: list[Endpoint], method: str) -> JSONResponse | None:
    """404 or 405 when no documented operation serves ``method`` here; None to go on."""
    if not matching:
        return JSONResponse(
            status_code=404,
            content={"error": "not_found", "detail": "no such endpoint in this API"},
        )
    if any(method in endpoint.methods for endpoint in matching):
        return None
    return JSONResponse(
        status_code=405,
        content={"error": "method_not_allowed", "detail": f"{method} is not served here"},
        headers={"Allow": allowed_methods(matching)},
    )


def raw_path_of(scope: Mapping[str, Any]) -> str:
    """The request's path as the client sent it, still percent-encoded."""
    raw_path = scope.get("raw_path")
    return raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(scope["path"])


def unsafe_path(raw_path: str) -> bool:
    """Whether a segment of ``raw_path`` (still percent-encoded) is ``.`` or ``..`` or holds
    a slash or backslash once decoded: a client or proxy on the way may resolve such a path
    to another one than the router matched (httpx collapses ``/cities/../ops``)."""
    for segment in raw_path.partition("?")[0].split("/"):
        decoded = unquote(segment) if "%" in segment else segment
        if decoded in (".", "..") or "/" in decoded or "\\" in decoded:
            return True
    return False


def path_refusal() -> JSONResponse:
    """The answer to an unsafe path: no endpoint of this API lives there."""
    return JSONResponse(
        status_code=404,
        content={
            "error": "not_found",
            "detail": "no such endpoint in this API (a path segment is '.' or '..', "
            "or holds an encoded slash)",
        },
    )
