from fastapi import FastAPI

from ucap_pilots.config import Settings
from ucap_shared.app import build_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(
        settings or Settings(),
        title="ucap pilots",
        description="Pilot projects: life cycle, milestones, funding, partner progress.",
    )
