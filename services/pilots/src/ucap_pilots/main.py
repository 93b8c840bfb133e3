from collections.abc import Sequence

from fastapi import FastAPI

from ucap_pilots import sealed_updates, views
from ucap_pilots.api import history_router, router
from ucap_pilots.config import Settings
from ucap_pilots.consumers import city_handlers, mou_handlers, ucap_handlers
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.dispatch import Handlers


def handlers(runtime: ServiceRuntime) -> Sequence[Handlers]:
    database = runtime.database
    return [
        views.own_handlers(database),
        city_handlers(database),
        mou_handlers(database),
        ucap_handlers(database),
    ]


async def setup(runtime: ServiceRuntime) -> None:
    await views.create_indexes(runtime.database)


DEFINITION = ServiceDefinition(
    title="ucap pilots",
    description="Pilot projects: life cycle, milestones, funding, partner progress.",
    routers=(router, history_router),
    handlers=handlers,
    views=(
        views.PILOTS_VIEW,
        sealed_updates.RUNS,
        views.CITIES_VIEW,
        views.MOUS_VIEW,
        views.UCAPS_VIEW,
    ),
    setup=setup,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app; the shared guard checks tokens, body size and JSON depth."""
    return build_service_app(settings or Settings(), DEFINITION)
