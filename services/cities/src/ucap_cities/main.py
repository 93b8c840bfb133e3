from fastapi import FastAPI

from ucap_cities.config import Settings
from ucap_shared.app import ServiceDefinition, build_service_app

DEFINITION = ServiceDefinition(
    title="ucap cities",
    description="Cities, their stakeholder organisations and thematic clusters.",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
