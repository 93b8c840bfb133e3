"""The constrained fields requests are made of, and the base of every request model."""

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ucap_shared import bounds

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SDG_TARGET_PATTERN = r"^([1-9]|1[0-7])\.([1-9][0-9]?|[a-z])$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=bounds.ID_CHARS)]
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=bounds.NAME_CHARS, strip_whitespace=True)
]
Word = Annotated[str, StringConstraints(min_length=1, max_length=bounds.WORD_CHARS)]
LongText = Annotated[str, StringConstraints(max_length=bounds.TEXT_CHARS)]
Note = Annotated[str, StringConstraints(max_length=bounds.NOTE_CHARS)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=bounds.URL_CHARS)]
SdgGoal = Annotated[int, Field(ge=1, le=bounds.SDGS)]
SdgTarget = Annotated[str, StringConstraints(pattern=SDG_TARGET_PATTERN)]
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=bounds.KEY_CHARS, pattern=r"^[\x21-\x7e]+$")
]
Number = Annotated[float, Field(allow_inf_nan=False)]


def slug_of(*parts: str) -> str:
    """A slug from free text, for ids the caller leaves out (so a retry gives the same id)."""
    text = "-".join(parts).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80] or "item"


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
