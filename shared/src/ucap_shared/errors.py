"""The one mapping of refusals to HTTP.

A domain raises the plain exceptions of :mod:`ucap_shared.problems` (or
subclasses); :func:`install_error_handlers` turns them, and every refusal
FastAPI or Starlette would answer in its own shape, into responses with one
JSON body, ``{"error": "<kind>", "detail": "..."}``; a 422 is
``{"error": "invalid_input", "detail": [{"loc", "msg", "type"}, ...]}``.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from ucap_shared.endpoints import allowed_methods as methods_of
from ucap_shared.endpoints import endpoint_index
from ucap_shared.eventstore import ConcurrencyConflict
from ucap_shared.problems import (
    INVALID_INPUT,
    ConflictError,
    EventTooLargeError,
    FieldProblem,
    InvalidInputError,
    NotFoundError,
    ServiceError,
)

__all__ = [
    "INVALID_INPUT",
    "ConflictError",
    "ErrorBody",
    "EventTooLargeError",
    "FieldProblem",
    "InvalidInputError",
    "NotFoundError",
    "ServiceError",
    "in_request",
    "install_error_handlers",
    "status_of",
]

STATUS_OF: dict[type[ServiceError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    EventTooLargeError: status.HTTP_413_CONTENT_TOO_LARGE,
    InvalidInputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
}
CONTEXT_HIDDEN = (NotFoundError,)
"""A 404's detail names what is missing; the ids again beside it would only repeat it."""


def status_of(error: ServiceError) -> int:
    return next(
        (STATUS_OF[kind] for kind in type(error).__mro__ if kind in STATUS_OF),
        status.HTTP_400_BAD_REQUEST,
    )


class ErrorBody(BaseModel):
    """Every refusal but a 422: what kind of refusal, and why in words."""

    error: str = Field(description="The kind of refusal: not_found, conflict, forbidden ...")
    detail: str = Field(description="Why, in words")
    context: dict[str, Any] | None = Field(
        None, description="A 409's or 413's facts (a limit, the actions allowed); never a 404's"
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> JSONResponse:
        if isinstance(error, InvalidInputError):
            return invalid_input([in_request(problem) for problem in error.problems])
        shows_context = not isinstance(error, CONTEXT_HIDDEN)
        context = error.context if shows_context and error.context else None
        body = ErrorBody(error=error.kind, detail=error.detail, context=context)
        return JSONResponse(
            status_code=status_of(error), content=body.model_dump(exclude_none=True)
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # Without the input: a client knows what it sent, and it may not even be text.
        return invalid_input(
            [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == status.HTTP_400_BAD_REQUEST:
            # FastAPI's only 400: a body that is not text in the declared encoding.
            return unreadable_body(str(error.detail))
        headers = dict(error.headers or {})
        if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            headers["Allow"] = allowed_methods(request)
        body = ErrorBody(
            error=HTTP_ERROR_KINDS.get(error.status_code, "error"), detail=str(error.detail)
        )
        return JSONResponse(
            status_code=error.status_code,
            content=body.model_dump(exclude_none=True),
            headers=headers,
        )

    @app.exception_handler(ConcurrencyConflict)
    async def concurrency_conflict(request: Request, error: ConcurrencyConflict) -> JSONResponse:
        body = ErrorBody(error="concurrent_change", detail=f"{error}; reload and retry")
        return JSONResponse(
            status_code=status.HTTP_409_CONFLICT, content=body.model_dump(exclude_none=True)
        )


HTTP_ERROR_KINDS = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


REQUEST_PARTS = frozenset({"body", "path", "query", "header", "cookie"})


def in_request(problem: FieldProblem) -> dict[str, Any]:
    """A domain's problem as a 422 lists it: its ``loc`` from the request's root."""
    loc = problem.loc if problem.loc and problem.loc[0] in REQUEST_PARTS else ["body", *problem.loc]
    return {**problem.model_dump(), "loc": loc}


def invalid_input(problems: list[Any]) -> JSONResponse:
    """A 422 in the one error body, each problem listed as FastAPI lists them."""
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"error": INVALID_INPUT, "detail": problems},
    )


def unreadable_body(detail: str) -> JSONResponse:
    return invalid_input([{"loc": ["body"], "msg": detail, "type": "json_invalid"}])


def allowed_methods(request: Request) -> str:
    """What the service's document says this path serves (Starlette names one route's)."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else request.url.path
    return methods_of(endpoint_index(request.app).matching(path))
