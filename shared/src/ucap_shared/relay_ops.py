"""``GET /ops/relay/parked``: the commits a service's relay parked, read from its store."""

from fastapi import APIRouter, Request

from ucap_shared.eventstore import EventStore
from ucap_shared.parking import ParkedCommit


def parked_router() -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])

    @router.get(
        "/relay/parked",
        summary="Commits Kafka refuses, set aside; their aggregates' later commits wait",
        description="First parked first, each with Kafka's last answer. `ucap parked retry` "
        "clears a parked mark once the cause is fixed, and the relay tries the commit again.",
    )
    async def parked(request: Request) -> list[ParkedCommit]:
        store: EventStore = request.app.state.runtime.store
        return await store.parked()

    return router
