from fastapi import FastAPI

from ucap_reporting.config import Settings
from ucap_shared.app import build_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(
        settings or Settings(),
        title="ucap reporting",
        description="U-CAPs, their activity timeline, and consolidated status views.",
    )
