"""The skeleton every ucap HTTP service is built on."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.health import ReadinessCheck, health_router
from ucap_shared.kafka import ping_kafka
from ucap_shared.logs import configure_logging, correlation_id
from ucap_shared.mongo import MongoClient, connect_mongo, ping_mongo
from ucap_shared.settings import ServiceSettings

CORRELATION_HEADER = "X-Correlation-ID"


@dataclass
class ServiceRuntime:
    """What a running service holds: its settings and its clients."""

    settings: ServiceSettings
    mongo: MongoClient
    extra_checks: dict[str, ReadinessCheck] = field(default_factory=dict)

    @property
    def database(self) -> AsyncDatabase[dict[str, Any]]:
        return self.mongo[self.settings.database]


Startup = Callable[[ServiceRuntime], AbstractAsyncContextManager[None]]


def build_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    startup: Startup | None = None,
) -> FastAPI:
    """A FastAPI app with health endpoints, correlation ids and a Mongo client.

    ``startup`` runs inside the lifespan once the clients exist; whatever it
    starts (relays, consumers) it stops when its context exits.
    """
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        runtime = ServiceRuntime(settings=settings, mongo=connect_mongo(settings.mongodb_uri))
        app.state.runtime = runtime
        checks["kafka"] = lambda: ping_kafka(settings.kafka_bootstrap_servers)
        checks["mongodb"] = lambda: ping_mongo(runtime.mongo)
        try:
            if startup is None:
                yield
            else:
                async with startup(runtime):
                    checks.update(runtime.extra_checks)
                    yield
        finally:
            await runtime.mongo.close()

    app = FastAPI(title=title, description=description, lifespan=lifespan)
    app.include_router(health_router(checks, settings.readiness_timeout_seconds))
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def carry_correlation_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        cid = request.headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
        token = correlation_id.set(cid)
        try:
            response = await call_next(request)
        finally:
            correlation_id.reset(token)
        response.headers[CORRELATION_HEADER] = cid
        return response

    return app


def run_service(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve ``app`` under uvicorn with the service's host, port and JSON logs."""
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)
