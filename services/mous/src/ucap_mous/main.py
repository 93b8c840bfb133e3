from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ucap_mous import views
from ucap_mous.api import router
from ucap_mous.config import Settings
from ucap_mous.consumers import city_handlers
from ucap_mous.expiry import expiry_checks
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.dispatch import Handlers


def handlers(runtime: ServiceRuntime) -> Sequence[Handlers]:
    return [views.own_handlers(runtime.database), city_handlers(runtime.database)]


async def setup(runtime: ServiceRuntime) -> None:
    await views.create_indexes(runtime.database)


DEFINITION = ServiceDefinition(
    title="ucap mous",
    description=(
        "Memoranda of understanding between cities: parties, signatures, validity, amendments."
    ),
    routers=(router,),
    handlers=handlers,
    views=(views.MOUS_VIEW, views.CITIES_VIEW),
    setup=setup,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app; its lifespan also runs the scheduled expiry check."""
    settings = settings or Settings()
    app = build_service_app(settings, DEFINITION)
    service_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_lifespan(app):
            runtime: ServiceRuntime = app.state.runtime
            async with expiry_checks(runtime, settings.expiry_check_seconds):
                yield

    app.router.lifespan_context = lifespan
    return app
