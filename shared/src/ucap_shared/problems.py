"""What a command refuses, in the domain's own terms: plain exceptions, nothing of HTTP.

:mod:`ucap_shared.errors` is where each becomes a status code and the one error body.
"""

from pydantic import BaseModel

INVALID_INPUT = "invalid_input"


class ServiceError(Exception):
    """A refusal: ``kind`` names it for machines, the message says why in words."""

    kind = "bad_request"

    def __init__(self, detail: str, **context: object) -> None:
        super().__init__(detail)
        self.detail = detail
        # Machine-readable facts beside the detail: a limit, the actions allowed.
        self.context = context


class NotFoundError(ServiceError):
    """What the command names does not exist."""

    kind = "not_found"


class ConflictError(ServiceError):
    """The command is valid but contradicts the current state."""

    kind = "conflict"


class EventTooLargeError(ServiceError):
    """The command would record an event larger than the service keeps or publishes."""

    kind = "too_large"


class FieldProblem(BaseModel):
    """One problem of a command's input: where (``loc``, the path to the field within the
    command, ``["parties", 0, "city_id"]``) and what. A caller that names where in a
    request the input came from starts ``loc`` with ``path``, ``query`` or ``header``;
    anything else is the request's body."""

    loc: list[str | int]
    msg: str
    type: str = "value_error"


class InvalidInputError(ServiceError):
    """Input that is well-formed but refers to what does not exist, and the like."""

    kind = INVALID_INPUT

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems))
        self.problems = problems
