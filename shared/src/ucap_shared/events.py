"""Base for event payload models, and the map from wire type to model."""

from typing import ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from ucap_shared.envelope import Envelope


class EventData(BaseModel):
    """The ``data`` of one event type. Subclasses set ``event_type`` explicitly.

    Producers' models forbid unknown fields; a consumer's narrow copy of
    another service's event should set ``extra="ignore"`` and keep only what it reads.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]


def event_types(*models: type[EventData]) -> dict[str, type[EventData]]:
    """Index models by their wire type, refusing two models for one type."""
    index: dict[str, type[EventData]] = {}
    for model in models:
        if model.event_type in index:
            raise ValueError(f"two models for {model.event_type}")
        index[model.event_type] = model
    return index


E = TypeVar("E")


class EventCatalogue(Generic[E]):
    """An aggregate's own event types, ``E`` their union: ``EventCatalogue[PilotEvent](*models)``.

    ``parse`` gives an envelope's data as the model of its type.
    """

    def __init__(self, *models: type[EventData]) -> None:
        self.models = event_types(*models)

    def parse(self, envelope: Envelope) -> E:
        # Each model of the catalogue is one member of ``E``: what it validates is an ``E``.
        return cast(E, self.models[envelope.type].model_validate(envelope.data))
