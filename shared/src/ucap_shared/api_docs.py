"""The responses every operation can give, written into a service's OpenAPI document.

The request guard answers some requests before any route runs (401 without a
valid token, 413 for a body over the limit, 422 for JSON nested too deeply or
not readable at all); routes should not each have to say so.
"""

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ucap_shared.errors import INVALID_INPUT, ErrorBody, FieldProblem

OPERATION_METHODS = ("get", "put", "post", "delete", "patch")
SCHEMAS = "#/components/schemas/"
ERROR_BODY_REF = f"{SCHEMAS}ErrorBody"
VALIDATION_ERROR_REF = f"{SCHEMAS}HTTPValidationError"


def error_response(description: str, reference: str = ERROR_BODY_REF) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": reference}}},
    }


def add_responses(
    document: dict[str, Any],
    responses: Callable[[str, dict[str, Any]], dict[str, dict[str, Any]]],
    *,
    open_paths: Iterable[str] = (),
) -> None:
    """Add ``responses(method, operation)`` to every operation outside ``open_paths``, keeping
    what an operation documents itself."""
    skipped = set(open_paths)
    for path, operations in document.get("paths", {}).items():
        if path in skipped:
            continue
        for method, operation in operations.items():
            if method in OPERATION_METHODS:
                documented = operation.setdefault("responses", {})
                for code, response in responses(method, operation).items():
                    documented.setdefault(code, response)


WRITE_METHODS = ("put", "post", "delete", "patch")


def guard_responses(method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    responses = {"401": error_response("No valid credentials")}
    if method in WRITE_METHODS:
        # Any append can lose to a concurrent writer of the same aggregate.
        responses["409"] = error_response(
            "Conflicts with the current state, or a concurrent change"
        )
    if "requestBody" in operation:
        responses["413"] = error_response(
            "The body, or the event it would record, is larger than the service accepts"
        )
    if "requestBody" in operation or operation.get("parameters"):
        responses["422"] = error_response("Invalid input", VALIDATION_ERROR_REF)
    return responses


def ensure_error_schemas(document: dict[str, Any]) -> None:
    """The schemas the added responses refer to, even where no route named them."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schemas = ErrorBody.model_json_schema(ref_template=f"{SCHEMAS}{{model}}")
    schemas.update(error_schemas.pop("$defs", {}))
    schemas.setdefault("ErrorBody", error_schemas)
    # FastAPI's routes name its own 422 schemas; they describe the one error body instead.
    schemas[VALIDATION_ERROR_REF.rsplit("/", 1)[-1]] = {
        "title": "HTTPValidationError",
        "description": "A 422 (ucap_shared.errors.invalid_input): each problem names where it is",
        "type": "object",
        "properties": {
            "error": {"type": "string", "const": INVALID_INPUT},
            "detail": {"type": "array", "items": {"$ref": f"{SCHEMAS}ValidationError"}},
        },
        "required": ["error", "detail"],
    }
    schemas["ValidationError"] = {
        **FieldProblem.model_json_schema(),
        "title": "ValidationError",
        "required": ["loc", "msg", "type"],
    }


def install_service_docs(app: FastAPI, open_paths: Iterable[str]) -> None:
    """The service's document: its routes, the guard's responses, bearer tokens required."""
    open_paths = tuple(open_paths)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            ensure_error_schemas(document)
            add_responses(document, guard_responses, open_paths=open_paths)
            document["components"]["securitySchemes"] = {
                "gatewayToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
            document["security"] = [{"gatewayToken": []}]
            for path in open_paths:
                for operation in document["paths"].get(path, {}).values():
                    operation["security"] = []
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
