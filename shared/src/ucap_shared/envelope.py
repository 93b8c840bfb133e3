"""The CloudEvents 1.0 envelope every ucap event travels in (structured JSON).

On Kafka an event is one record in structured content mode: the whole event as
JSON in the value, ``content-type: application/cloudevents+json`` in the headers,
the subject as the key. No ``ce_`` header is set: readers such as the official
SDK take any ``ce_`` header for binary mode, whose attributes are all headers.

The aggregate's version travels as the ``aggregateversion`` extension. Events
published before it carry it as an integer ``sequence``, which is still read as
the version; a string ``sequence`` is the documented CloudEvents extension of
that name (an order within the source), kept as any other extension is.
"""

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

RecordHeaders = list[tuple[str, bytes]]

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
"""The ``content-type`` header of every event record: structured content mode."""

VERSION_ATTRIBUTE = "aggregateversion"
LEGACY_VERSION_ATTRIBUTE = "sequence"

REQUIRED_ON_THE_WIRE = ("specversion", "id", "time")
"""Attributes with a default here that an event read from JSON must carry all the same."""

_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
_INTEGER_RANGE = range(-(2**31), 2**31)


def _wire_schema(schema: dict[str, Any]) -> None:
    """The schema of the JSON on the wire: what it must carry, which extensions it may."""
    schema["required"] = [*REQUIRED_ON_THE_WIRE, *schema.get("required", ())]
    schema["propertyNames"] = {"pattern": _ATTRIBUTE_NAME.pattern}
    schema["additionalProperties"] = {
        "description": "An extension attribute, kept as it came",
        "type": ["string", "integer", "boolean"],
    }
    schema["properties"][LEGACY_VERSION_ATTRIBUTE] = {
        "description": (
            "Only the CloudEvents `sequence` extension (a string), if a producer adds it; "
            "ucap publishes none. Records published before `aggregateversion` carry the "
            "version here as an integer, and readers still take it as the version."
        ),
        "type": "string",
    }


class Envelope(BaseModel):
    """One event: what happened to which aggregate, when, by whom, in what order.

    Extension attributes it does not name (``traceparent``, say) are accepted and
    kept: they are in ``model_extra`` and written out again with the event.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        json_schema_extra=_wire_schema,
    )

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique event id")
    source: str = Field(description="The producing service, e.g. `ucap/pilots`", min_length=1)
    type: str = Field(
        description="Versioned event type, e.g. `ucap.pilot.progress_reported.v1`",
        pattern=r"^[a-z0-9_.]+\.v[0-9]+$",
    )
    subject: str = Field(description="The aggregate id", min_length=1)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    sequence: int = Field(
        alias=VERSION_ATTRIBUTE,
        ge=1,
        strict=True,
        description="The aggregate's version after this event (1, 2, 3 …)",
    )
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    correlationid: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The request it came from (its `X-Correlation-ID`)",
    )
    causationid: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The id of the event it follows from, when another event caused it",
    )
    actor: str = Field(description="Who did it, e.g. `city:granada`", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _read_attributes(cls, value: Any, info: ValidationInfo) -> Any:  # noqa: ANN401 - any input
        if not isinstance(value, dict):
            return value
        if info.mode == "json":
            missing = [name for name in REQUIRED_ON_THE_WIRE if name not in value]
            if missing:
                raise ValueError(f"missing required attribute(s): {', '.join(missing)}")
        if VERSION_ATTRIBUTE in value or LEGACY_VERSION_ATTRIBUTE not in value:
            return value
        legacy = value[LEGACY_VERSION_ATTRIBUTE]
        if type(legacy) is not int:
            raise ValueError(
                f"no {VERSION_ATTRIBUTE}: a {LEGACY_VERSION_ATTRIBUTE} that is not an integer "
                "is the CloudEvents extension, not the aggregate's version"
            )
        value = {**value, VERSION_ATTRIBUTE: legacy}
        del value[LEGACY_VERSION_ATTRIBUTE]
        return value

    @model_validator(mode="after")
    def _check_extensions(self) -> "Envelope":
        extensions = self.__pydantic_extra__ or {}
        for name in [name for name, value in extensions.items() if value is None]:
            del extensions[name]  # a null attribute is one that is not there
        for name, value in extensions.items():
            problem = _extension_problem(name, value)
            if problem:
                raise ValueError(f"extension attribute {name!r}: {problem}")
        return self

    @property
    def extensions(self) -> dict[str, str | int | bool]:
        """The extension attributes this model does not name, as they came."""
        return dict(self.__pydantic_extra__ or {})

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Envelope":
        return cls.model_validate_json(raw)

    def record_key(self) -> bytes:
        return self.subject.encode()

    def record_headers(self) -> RecordHeaders:
        return [("content-type", STRUCTURED_CONTENT_TYPE.encode())]


def _extension_problem(name: str, value: object) -> str | None:
    if not _ATTRIBUTE_NAME.match(name):
        return "a name is lower-case letters and digits only"
    if name == LEGACY_VERSION_ATTRIBUTE and not isinstance(value, str):
        return "the CloudEvents sequence extension is a string"
    if isinstance(value, bool | str):
        return None
    if isinstance(value, int):
        return None if value in _INTEGER_RANGE else "an integer attribute is 32-bit"
    return "a value is a string, an integer or a boolean"
