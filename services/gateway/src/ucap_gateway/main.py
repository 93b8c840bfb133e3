from fastapi import FastAPI

from ucap_gateway.config import Settings
from ucap_shared.app import ServiceDefinition, build_service_app

DEFINITION = ServiceDefinition(
    title="ucap gateway",
    publishes_events=False,
    description="The public entry: authentication, routing, and the live U-CAP status.",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
