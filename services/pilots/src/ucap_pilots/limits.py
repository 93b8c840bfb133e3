"""Keys a client may not send: any that MongoDB could read as an operator or a path (422).

Body size and JSON depth are the shared request guard's (``UCAP_MAX_BODY_BYTES``,
``UCAP_MAX_JSON_DEPTH``), as in every service.
"""

import json
from typing import Any

from fastapi import Request

from ucap_shared.errors import FieldProblem, InvalidInputError


def operator_key_problems(value: Any, loc: list[str | int]) -> list[FieldProblem]:  # noqa: ANN401 - any JSON
    """Every key, at any depth, that MongoDB could read as an operator or a path."""
    problems: list[FieldProblem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).startswith("$") or "." in str(key):
                problems.append(
                    FieldProblem(
                        loc=[*loc, str(key)],
                        msg="keys may not begin with $ or contain a dot",
                    )
                )
            problems += operator_key_problems(item, [*loc, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += operator_key_problems(item, [*loc, index])
    return problems


async def refuse_operator_keys(request: Request) -> None:
    """A route dependency: 422 listing every ``$…`` or dotted key in a JSON body."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    raw = await request.body()
    if not raw:
        return
    try:
        body = json.loads(raw)
    except ValueError:
        return  # FastAPI answers malformed JSON itself
    problems = operator_key_problems(body, ["body"])
    if problems:
        raise InvalidInputError(problems)
