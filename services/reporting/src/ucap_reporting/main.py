from collections.abc import Sequence

from fastapi import FastAPI

from ucap_reporting import views
from ucap_reporting.api import router
from ucap_reporting.asof import AS_OF_VIEW, forgetting_late_events
from ucap_reporting.config import Settings
from ucap_reporting.projections import VIEWS, all_handlers
from ucap_reporting.store import MongoViews
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.dispatch import Handlers


def handlers(runtime: ServiceRuntime) -> Sequence[Handlers]:
    return [
        forgetting_late_events(topic, runtime.database)
        for topic in all_handlers(MongoViews(runtime.database), runtime.own_topic)
    ]


async def setup(runtime: ServiceRuntime) -> None:
    await views.create_indexes(runtime.database)


DEFINITION = ServiceDefinition(
    title="ucap reporting",
    description="U-CAPs, their activity timeline, and consolidated status views.",
    routers=(router,),
    handlers=handlers,
    views=(*VIEWS, AS_OF_VIEW),
    setup=setup,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
