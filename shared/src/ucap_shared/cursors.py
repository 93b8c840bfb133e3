"""Opaque cursors for paginated lists: the sort keys of the last item returned."""

import base64
import binascii
import json

from ucap_shared.errors import FieldProblem, InvalidInputError


def encode_cursor(*keys: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(keys)).encode()).decode()


def decode_cursor(cursor: str, parts: int) -> tuple[str, ...]:
    """The ``parts`` keys of a cursor this service returned; 422 on anything else."""
    try:
        keys = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error):
        keys = None
    if not (
        isinstance(keys, list) and len(keys) == parts and all(isinstance(k, str) for k in keys)
    ):
        raise InvalidInputError(
            [FieldProblem(loc=["query", "cursor"], msg="not a cursor this service returned")]
        )
    return tuple(keys)
