"""From a Kafka record to the handler that applies it, with typed failures.

A service registers, per topic it reads, a handler per event type it cares
about. The event's ``data`` is validated against the handler's model before
the call. Types under the topic's prefix (or prefixes) that nobody handles are
ignored, and so are types nobody handles that the topic's own producing service
published (its ``source``): a producer may add an aggregate, with new types, to its
topic without every consumer dead-lettering them. Anything else on the topic is an
unknown type.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from pydantic import ValidationError

from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.metrics import HANDLER_SECONDS
from ucap_shared.views import Outcome

E = TypeVar("E", bound=EventData)
Handler = Callable[[Envelope, Any], Awaitable[Outcome | None]]


class Result(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    HELD = "held"
    DEAD_LETTERED = "dead_lettered"


class UnusableRecord(Exception):  # noqa: N818 - names what is wrong with the record
    """A record no retry can apply: it goes to the dead-letter topic at once."""

    kind = "unusable"


class MalformedRecord(UnusableRecord):
    kind = "malformed"


class UnknownEventType(UnusableRecord):
    kind = "unknown_type"


class InvalidEventData(UnusableRecord):
    kind = "invalid_data"


@dataclass
class Handlers:
    """The handlers for one topic."""

    topic: str
    type_prefix: str | tuple[str, ...]
    by_type: dict[str, tuple[type[EventData], Handler]] = field(default_factory=dict)
    guard_themselves: bool = False
    """The handlers skip duplicates and fill gaps by themselves (a service's own views, by
    their documents' sequences and the event store): the consumer keeps no position per
    stream of the topic, only when it last applied one of its events."""

    def on(
        self, model: type[E]
    ) -> Callable[[Callable[[Envelope, E], Awaitable[Outcome | None]]], Handler]:
        def register(handler: Callable[[Envelope, E], Awaitable[Outcome | None]]) -> Handler:
            if model.event_type in self.by_type:
                raise ValueError(f"{model.event_type} already has a handler on {self.topic}")
            if not model.event_type.startswith(self.type_prefix):
                raise ValueError(f"{model.event_type} is not a {self.type_prefix}* event")
            self.by_type[model.event_type] = (model, handler)
            return handler

        return register


def parse_envelope(value: bytes | None) -> Envelope:
    if value is None:
        raise MalformedRecord("record has no value")
    try:
        return Envelope.from_json(value)
    except ValidationError as error:
        raise MalformedRecord(f"not a ucap event envelope: {error}") from error


@dataclass(frozen=True)
class Call:
    """A validated event ready for its handler."""

    handler: Handler
    envelope: Envelope
    data: EventData


def resolve(handlers: Handlers, envelope: Envelope) -> Call | None:
    """The handler call for ``envelope``; None when its type is one nobody here reads.

    Raises :class:`UnknownEventType` or :class:`InvalidEventData`.
    """
    entry = handlers.by_type.get(envelope.type)
    if entry is None:
        if envelope.type.startswith(handlers.type_prefix) or _from_producer(handlers, envelope):
            return None
        raise UnknownEventType(f"{envelope.type} is not an event type of {handlers.topic}")
    model, handler = entry
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as error:
        raise InvalidEventData(f"{envelope.type} data is invalid: {error}") from error
    return Call(handler, envelope, data)


def _from_producer(handlers: Handlers, envelope: Envelope) -> bool:
    """Whether the event's source (``ucap/cities``) is the service whose topic this is
    (``<namespace>.cities.events``)."""
    producer = handlers.topic.removesuffix(".events").rsplit(".", 1)[-1]
    return envelope.source == f"ucap/{producer}"


async def run_call(call: Call, *, group: str) -> Result:
    started = time.perf_counter()
    outcome = await call.handler(call.envelope, call.data)
    HANDLER_SECONDS.labels(group, call.envelope.type).observe(time.perf_counter() - started)
    return Result.DUPLICATE if outcome is Outcome.DUPLICATE else Result.APPLIED


async def dispatch(handlers: Handlers, envelope: Envelope, *, group: str) -> Result:
    """Validate the event's data and run its handler. Raises UnusableRecord subclasses."""
    call = resolve(handlers, envelope)
    return Result.IGNORED if call is None else await run_call(call, group=group)
