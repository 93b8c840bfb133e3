from fastapi import FastAPI

from ucap_pilots.config import Settings
from ucap_shared.app import ServiceDefinition, build_service_app

DEFINITION = ServiceDefinition(
    title="ucap pilots",
    description="Pilot projects: life cycle, milestones, funding, partner progress.",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
