"""Errors a service raises for its callers, and their one mapping to HTTP.

A domain raises these (or subclasses); :func:`install_error_handlers` turns
them into responses with a stable JSON body:
``{"error": "<kind>", "detail": "...", "fields": [...]}``.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ucap_shared.eventstore import ConcurrencyConflict


class ServiceError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    kind = "bad_request"

    def __init__(self, detail: str, **context: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class NotFoundError(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    kind = "not_found"


class ConflictError(ServiceError):
    """The request is valid but contradicts the current state (409)."""

    status_code = status.HTTP_409_CONFLICT
    kind = "conflict"


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str = "value_error"


class InvalidInputError(ServiceError):
    """Input that is well-formed but refers to what does not exist, and the like (422)."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    kind = "invalid"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems))
        self.problems = problems


class ErrorBody(BaseModel):
    error: str
    detail: str
    fields: list[FieldProblem] | None = None
    context: dict[str, Any] | None = None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> JSONResponse:
        body = ErrorBody(error=error.kind, detail=error.detail, context=error.context or None)
        if isinstance(error, InvalidInputError):
            # Same shape as FastAPI's own 422s, so a client reads both alike.
            return JSONResponse(
                status_code=error.status_code,
                content={"detail": [p.model_dump() for p in error.problems]},
            )
        return JSONResponse(
            status_code=error.status_code, content=body.model_dump(exclude_none=True)
        )

    @app.exception_handler(ConcurrencyConflict)
    async def concurrency_conflict(request: Request, error: ConcurrencyConflict) -> JSONResponse:
        body = ErrorBody(error="concurrent_change", detail=f"{error}; reload and retry")
        return JSONResponse(
            status_code=status.HTTP_409_CONFLICT, content=body.model_dump(exclude_none=True)
        )
