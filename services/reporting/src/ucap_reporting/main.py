import contextlib
from collections.abc import AsyncIterator, Sequence

from fastapi import FastAPI

from ucap_reporting import views
from ucap_reporting.api import history_router, router
from ucap_reporting.asof import AS_OF_VIEW, forgetting_late_events
from ucap_reporting.config import Settings
from ucap_reporting.projections import VIEWS, all_handlers
from ucap_reporting.store import MongoViews
from ucap_reporting.webhooks import deliveries, subscriptions
from ucap_reporting.webhooks.announcing import announcing
from ucap_reporting.webhooks.api import router as webhooks_router
from ucap_reporting.webhooks.worker import delivering
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.dispatch import Handlers


def handlers(runtime: ServiceRuntime) -> Sequence[Handlers]:
    return [
        announcing(forgetting_late_events(topic, runtime.database), runtime.database)
        for topic in all_handlers(MongoViews(runtime.database), runtime.own_topic)
    ]


async def setup(runtime: ServiceRuntime) -> None:
    await views.create_indexes(runtime.database)
    await subscriptions.create_indexes(runtime.database)
    await deliveries.create_indexes(runtime.database)


@contextlib.asynccontextmanager
async def background(app: FastAPI, runtime: ServiceRuntime) -> AsyncIterator[None]:
    """The webhook delivery worker, for as long as the service runs."""
    settings = runtime.settings
    assert isinstance(settings, Settings)
    async with delivering(runtime.database, settings):
        yield


DEFINITION = ServiceDefinition(
    title="ucap reporting",
    description="U-CAPs, their activity timeline, and consolidated status views.",
    routers=(router, history_router, webhooks_router),
    handlers=handlers,
    views=(*VIEWS, AS_OF_VIEW),
    setup=setup,
    background=background,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
