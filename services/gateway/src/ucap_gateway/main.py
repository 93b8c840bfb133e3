from fastapi import FastAPI

from ucap_gateway.config import Settings
from ucap_shared.app import build_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(
        settings or Settings(),
        title="ucap gateway",
        description="The public entry: authentication, routing, and the live U-CAP status.",
    )
