from collections.abc import Sequence

from fastapi import FastAPI

from ucap_cities.api import history_router, router
from ucap_cities.config import Settings
from ucap_cities.organisations.api import router as organisations_router
from ucap_cities.organisations.views import ORGANISATIONS_VIEW
from ucap_cities.views import CITIES_VIEW, city_handlers
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.dispatch import Handlers


def handlers(runtime: ServiceRuntime) -> Sequence[Handlers]:
    """Only the service's own topic: both views are projected from its own events."""
    return [city_handlers(runtime.own_topic, runtime.database)]


DEFINITION = ServiceDefinition(
    title="ucap cities",
    description=(
        "Cities, their stakeholder organisations and thematic clusters; organisations that"
        " belong to no one city."
    ),
    routers=[router, history_router, organisations_router],
    handlers=handlers,
    views=(CITIES_VIEW, ORGANISATIONS_VIEW),
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
