from fastapi import FastAPI

from ucap_reporting.config import Settings
from ucap_shared.app import ServiceDefinition, build_service_app

DEFINITION = ServiceDefinition(
    title="ucap reporting",
    description="U-CAPs, their activity timeline, and consolidated status views.",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
