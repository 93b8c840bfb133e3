"""What every service's API has in common: its runtime as a dependency, and the history
of one of its aggregates (every event, in order)."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ucap_shared.envelope import Envelope
from ucap_shared.errors import ErrorBody
from ucap_shared.problems import NotFoundError
from ucap_shared.runtime import ServiceRuntime


async def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime_of)]


class HistoryEntry(BaseModel):
    """One event of an aggregate's history."""

    id: str = Field(description="The event's id")
    sequence: int = Field(description="The aggregate's version after this event")
    type: str = Field(description="The event's type", examples=["ucap.pilot.approved.v1"])
    time: datetime = Field(description="When it happened (the time the command gave it)")
    actor: str = Field(description="Who recorded it", examples=["city:granada"])
    data: dict[str, Any] = Field(description="The event's data, as its contract defines it")


def history_router(
    *,
    prefix: str,
    id_name: str,
    noun: str,
    not_found: Callable[[str], NotFoundError],
    dependencies: list[Any] | None = None,
    first_of_mine: Callable[[Envelope], bool] = lambda first: True,
) -> APIRouter:
    """``GET {prefix}/{<id_name>}/history``: every event of the aggregate, in order; 404
    (``not_found(id)``) for an id that has none, or whose first event is another
    aggregate's (a store two aggregates share)."""
    router = APIRouter(prefix=prefix, tags=[prefix.strip("/")], dependencies=dependencies or [])

    @router.get(
        f"/{{{id_name}}}/history",
        summary=f"Every event of the {noun}, in order",
        responses={404: {"model": ErrorBody, "description": f"No {noun} with this id"}},
        operation_id=f"{id_name.removesuffix('_id')}_history",
    )
    async def history(
        runtime: RuntimeDep,
        aggregate_id: Annotated[str, Path(alias=id_name, description=f"The {noun}'s id")],
    ) -> list[HistoryEntry]:
        envelopes = await runtime.store.load(aggregate_id)
        if not envelopes or not first_of_mine(envelopes[0]):
            raise not_found(aggregate_id)
        return [
            HistoryEntry(
                id=str(envelope.id),
                sequence=envelope.sequence,
                type=envelope.type,
                time=envelope.time,
                actor=envelope.actor,
                data=envelope.data,
            )
            for envelope in envelopes
        ]

    return router
