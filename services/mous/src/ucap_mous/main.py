from fastapi import FastAPI

from ucap_mous.config import Settings
from ucap_shared.app import build_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(
        settings or Settings(),
        title="ucap mous",
        description=(
            "Memoranda of understanding between cities: parties, signatures, validity, amendments."
        ),
    )
