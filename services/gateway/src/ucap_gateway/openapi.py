"""One OpenAPI document for the public API: the gateway's own and the services'.

Each service's document is fetched once it answers; its component schemas are
renamed with the service's name, so two services' ``Page`` never collide.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ucap_gateway.gatekeeper import OPEN_ALWAYS
from ucap_gateway.routing import ROUTES
from ucap_gateway.upstreams import Upstreams, UpstreamUnavailableError
from ucap_shared.api_docs import (
    add_responses,
    ensure_error_schemas,
    error_response,
    guard_responses,
)
from ucap_shared.backoff import Backoff

log = logging.getLogger(__name__)
PRIVATE_PREFIXES = ("/health", "/metrics", "/ops", "/openapi", "/docs", "/redoc")
# What the gateway compiles itself, in place of the services' raw views.
GATEWAY_OWNED_SUFFIXES = ("/status", "/live")


def _public_part(service: str, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    prefixes = tuple(f"/{p}" for p, owner in ROUTES.items() if owner == service)
    paths = {
        path: operations
        for path, operations in document.get("paths", {}).items()
        if path.startswith(prefixes)
        and not path.startswith(PRIVATE_PREFIXES)
        and not path.endswith(GATEWAY_OWNED_SUFFIXES)
    }
    schemas = document.get("components", {}).get("schemas", {})
    text = json.dumps({"paths": paths, "schemas": schemas})
    for name in schemas:
        text = text.replace(
            f'"#/components/schemas/{name}"', f'"#/components/schemas/{service}_{name}"'
        )
    renamed = json.loads(text)
    for operations in renamed["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation["tags"] = [service]
                if "operationId" in operation:
                    operation["operationId"] = f"{service}_{operation['operationId']}"
    components = {f"{service}_{name}": schema for name, schema in renamed["schemas"].items()}
    return renamed["paths"], components


def merged_openapi(app: FastAPI, upstream_documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version="1.0.0",
        description=app.description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for service, upstream in sorted(upstream_documents.items()):
        paths, components = _public_part(service, upstream)
        for path, operations in paths.items():
            document["paths"].setdefault(path, {}).update(operations)
        schemas.update(components)
    document_gateway_answers(document)
    return document


def gateway_responses(method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What the gateway itself may answer for any operation, besides the operation's own."""
    responses = guard_responses(method, operation)
    responses["429"] = {
        **error_response(
            "Too many requests for this API key, or failed authentications from this address"
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer"},
            }
        },
    }
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        responses["404"] = error_response("Nothing with this id")
    if operation.get("tags", [""])[0] in ROUTES.values():
        responses["502"] = error_response("The service that owns this did not answer")
        responses["504"] = error_response("The service that owns this answered too late")
    return responses


def document_gateway_answers(document: dict[str, Any]) -> None:
    """API keys as the security scheme, and the gateway's own answers on every operation."""
    ensure_error_schemas(document)
    add_responses(document, gateway_responses, open_paths=OPEN_ALWAYS)
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "bearerApiKey": {"type": "http", "scheme": "bearer", "description": "The API key"},
    }
    document["security"] = [{"apiKey": []}, {"bearerApiKey": []}]
    for path in OPEN_ALWAYS:
        for operation in document["paths"].get(path, {}).values():
            operation["security"] = []


def install_merged_openapi(app: FastAPI) -> None:
    documents: dict[str, dict[str, Any]] = {}
    app.state.upstream_openapi = documents

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = merged_openapi(app, documents)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def upstream_documents_fetched(app: FastAPI, upstreams: Upstreams) -> AsyncIterator[None]:
    """Fetch each service's OpenAPI document in the background until all have come."""
    documents: dict[str, dict[str, Any]] = app.state.upstream_openapi

    async def fetch_all() -> None:
        backoff = Backoff(first=0.5, most=10.0)
        while missing := [s for s in set(ROUTES.values()) if s not in documents]:
            for service in missing:
                try:
                    answer = await upstreams.request(service, "GET", "/openapi.json")
                except UpstreamUnavailableError:
                    continue
                if answer.status_code == 200:
                    documents[service] = answer.json()
                    app.openapi_schema = None
            await asyncio.sleep(backoff.next_wait())

    task = asyncio.create_task(fetch_all(), name="openapi-documents")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
