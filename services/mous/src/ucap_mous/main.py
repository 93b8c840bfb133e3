from fastapi import FastAPI

from ucap_mous.config import Settings
from ucap_shared.app import ServiceDefinition, build_service_app

DEFINITION = ServiceDefinition(
    title="ucap mous",
    description=(
        "Memoranda of understanding between cities: parties, signatures, validity, amendments."
    ),
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
