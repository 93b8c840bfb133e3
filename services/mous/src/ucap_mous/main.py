from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from ucap_mous import views
from ucap_mous.api import history_router, router
from ucap_mous.config import Settings
from ucap_mous.consumers import city_handlers
from ucap_mous.expiry import expiry_checks
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.dispatch import Handlers


def handlers(runtime: ServiceRuntime) -> Sequence[Handlers]:
    return [views.own_handlers(runtime.database), city_handlers(runtime.database)]


async def setup(runtime: ServiceRuntime) -> None:
    await views.create_indexes(runtime.database)


def background(app: FastAPI, runtime: ServiceRuntime) -> AbstractAsyncContextManager[None]:
    """The scheduled expiry check, for as long as the service runs."""
    settings = runtime.settings
    assert isinstance(settings, Settings)
    return expiry_checks(runtime, settings.expiry_check_seconds)


DEFINITION = ServiceDefinition(
    title="ucap mous",
    description=(
        "Memoranda of understanding between cities: parties, signatures, validity, amendments."
    ),
    routers=(router, history_router),
    handlers=handlers,
    views=(views.MOUS_VIEW, views.CITIES_VIEW, views.ORGANISATIONS_VIEW),
    setup=setup,
    background=background,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
