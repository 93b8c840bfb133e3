"""The CloudEvents 1.0 envelope every ucap event travels in (structured JSON)."""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RecordHeaders = list[tuple[str, bytes]]


class Envelope(BaseModel):
    """One event: what happened to which aggregate, when, by whom, in what order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique event id")
    source: str = Field(description="The producing service, e.g. `ucap/pilots`", min_length=1)
    type: str = Field(
        description="Versioned event type, e.g. `ucap.pilot.progress_reported.v1`",
        pattern=r"^[a-z0-9_.]+\.v[0-9]+$",
    )
    subject: str = Field(description="The aggregate id", min_length=1)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    sequence: int = Field(ge=1, description="The aggregate's version after this event")
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    correlationid: str | None = None
    causationid: str | None = None
    actor: str = Field(description="Who did it, e.g. `city:granada`", min_length=1)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Envelope":
        return cls.model_validate_json(raw)

    def record_key(self) -> bytes:
        return self.subject.encode()

    def record_headers(self) -> RecordHeaders:
        return [("ce_type", self.type.encode()), ("ce_id", str(self.id).encode())]
