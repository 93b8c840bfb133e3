"""The skeleton every ucap HTTP service is built on.

A service hands :func:`build_service_app` its routers and, if it keeps an
event store or views, a function that builds its event handlers. The
lifespan then connects MongoDB, creates the indexes, and starts the relay
(publishing the service's own events) and the consumer (feeding its views).
"""

import argparse
import asyncio
import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request

from ucap_shared.api_docs import install_service_docs
from ucap_shared.auth import admin
from ucap_shared.consumer import ConsumerRunner, TopicFreshness
from ucap_shared.errors import ErrorBody, install_error_handlers
from ucap_shared.guard import ALWAYS_OPEN, DOCS, RequestGuard
from ucap_shared.health import ReadinessCheck, health_router
from ucap_shared.http_metrics import HttpMetrics
from ucap_shared.lease import Lease
from ucap_shared.logs import configure_logging
from ucap_shared.metrics import MetricsListener, metrics_router
from ucap_shared.readiness_checks import (
    KafkaReachability,
    consumer_check,
    kafka_check,
    mongodb_check,
    relay_check,
)
from ucap_shared.rebuild import rebuild
from ucap_shared.relay import Relay
from ucap_shared.relay_ops import parked_router
from ucap_shared.request_context import CORRELATION_HEADER as CORRELATION_HEADER
from ucap_shared.request_context import OCCURRED_AT_HEADER as OCCURRED_AT_HEADER
from ucap_shared.request_context import CorrelationAndDating
from ucap_shared.runtime import Background as Background
from ucap_shared.runtime import HandlersFactory as HandlersFactory
from ucap_shared.runtime import ServiceDefinition as ServiceDefinition
from ucap_shared.runtime import ServiceRuntime as ServiceRuntime
from ucap_shared.runtime import opened_runtime
from ucap_shared.sampled_gauges import DEAD_LETTER_REPLAYS, DeadLetterDepth, GaugeSampler
from ucap_shared.serving import serve
from ucap_shared.settings import ServiceSettings
from ucap_shared.shutdown import stopped
from ucap_shared.topics import dead_letter_topic
from ucap_shared.tracing_setup import configure_tracing, flush_traces

ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller is not an admin", "model": ErrorBody}
}
UNTRACED_PATHS = frozenset((*ALWAYS_OPEN, "/metrics"))
"""Probes and scrapes: a trace each would bury the requests' own."""


def _settle_heap() -> None:
    """Leave what start-up made out of later garbage collections.

    A full collection walks every object; the modules, models and clients made
    at start-up are most of them and never garbage, and walking them stalled
    every request for tens of milliseconds.
    """
    gc.collect()
    gc.freeze()


def build_service_app(settings: ServiceSettings, definition: ServiceDefinition) -> FastAPI:
    """A FastAPI app with health, metrics, correlation ids, event store, relay and consumer."""
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        configure_tracing(f"ucap-{settings.service_name}")  # before the client: it traces it
        try:
            async with opened_runtime(settings) as runtime:
                app.state.runtime = runtime
                async with _running(app, runtime, definition, checks):
                    yield
        finally:
            flush_traces()

    signing_key = settings.signing_key()
    app = FastAPI(
        title=definition.title,
        description=definition.description,
        lifespan=lifespan,
        # Production serves no interactive docs (nor the schema they read).
        docs_url=None if settings.production else "/docs",
        redoc_url=None if settings.production else "/redoc",
        openapi_url=None if settings.production else "/openapi.json",
        # FastAPI's own spans, once ucap_shared.tracing_setup installed a tracer provider:
        # the request's span only; its metrics are Prometheus's here, its errors our logs'.
        telemetry={
            "auto_configure": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "exclude": lambda scope: scope.get("path") in UNTRACED_PATHS,
        },
    )
    install_error_handlers(app)
    app.include_router(health_router(checks, settings.readiness_timeout_seconds))
    # Operations data is for operators: an admin's token (at the gateway, an admin's key).
    for operations_router in (metrics_router(), ops_router(), parked_router()):
        app.include_router(operations_router, dependencies=[Depends(admin)], responses=ADMIN_ONLY)
    for router in definition.routers:
        app.include_router(router)
    install_service_docs(app, ALWAYS_OPEN)

    # Added innermost first: the guard (a service's token, then the body's limits) or,
    # outside it, the service's own (the gateway's keys) run before any body is read.
    app.add_middleware(CorrelationAndDating)
    app.add_middleware(
        RequestGuard,
        audience=(settings.audience or settings.service_name)
        if definition.verifies_tokens
        else None,
        key=signing_key,
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
        open_paths=ALWAYS_OPEN if settings.production else ALWAYS_OPEN + DOCS,
    )
    if definition.install is not None:
        definition.install(app, settings)
    # Outermost: every answer counts, a refusal of the guard's or the gatekeeper's too.
    app.add_middleware(HttpMetrics)
    return app


@asynccontextmanager
async def _running(
    app: FastAPI,
    runtime: ServiceRuntime,
    definition: ServiceDefinition,
    checks: dict[str, ReadinessCheck],
) -> AsyncIterator[None]:
    """The runtime's indexes, relay, consumer, sampler and background work, stopped in turn."""
    settings = runtime.settings
    kafka = KafkaReachability(
        settings.kafka_bootstrap_servers, timeout_seconds=settings.readiness_timeout_seconds
    )
    checks["kafka"] = kafka_check(kafka)
    checks["mongodb"] = mongodb_check(runtime.mongo)
    try:
        runtime.metrics_listener = MetricsListener.started(
            settings.metrics_host, settings.metrics_port
        )
        await runtime.store.create_indexes()
        if definition.setup is not None:
            await definition.setup(runtime)
        runtime.take_handlers(definition)
        runtime.install_healing()
        if definition.publishes_events:
            runtime.relay = Relay(
                runtime.store,
                Lease(
                    runtime.database["leases"], "relay", ttl_seconds=settings.relay_lease_seconds
                ),
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topic=runtime.own_topic,
                topics_to_create=runtime.topic_specs(),
            )
            runtime.relay.start()
            checks["relay"] = relay_check(runtime.relay, kafka, runtime.sampled_backlog)
        if runtime.handlers:
            runtime.consumer = ConsumerRunner(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                group=settings.group,
                handlers=runtime.handlers,
                database=runtime.database,
                dead_letter_topic=dead_letter_topic(settings.service_name),
                topics_to_create=runtime.topic_specs(),
            )
            await runtime.consumer.create_indexes()
            runtime.consumer.start()
            checks["consumer"] = consumer_check(runtime.consumer, kafka)
        runtime.sampler = _sampler(runtime, checks)
        runtime.sampler.start()
        if definition.background is None:
            _settle_heap()
            yield
        else:
            async with definition.background(app, runtime):
                _settle_heap()
                yield
    finally:
        if runtime.sampler is not None:
            await stopped("sampler", runtime.sampler.stop)
        if runtime.consumer is not None:
            await stopped("consumer", runtime.consumer.stop)
        if runtime.relay is not None:
            await stopped("relay", runtime.relay.stop)
        if runtime.metrics_listener is not None:
            runtime.metrics_listener.stop()


def _sampler(runtime: ServiceRuntime, checks: dict[str, ReadinessCheck]) -> GaugeSampler:
    settings, consumer = runtime.settings, runtime.consumer
    return GaugeSampler(
        every_seconds=settings.metrics_sample_seconds,
        checks=checks,
        check_timeout_seconds=settings.readiness_timeout_seconds,
        store=runtime.store if runtime.relay is not None else None,
        consumer=consumer,
        held=runtime.database["held_events"] if consumer is not None else None,
        dead_letters=DeadLetterDepth(
            settings.kafka_bootstrap_servers,
            consumer.dead_letter_topic,
            runtime.database[DEAD_LETTER_REPLAYS],
        )
        if consumer is not None
        else None,
    )


def ops_router() -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])

    @router.get("/freshness", summary="Consumer lag and last applied event time, per topic")
    async def freshness(request: Request) -> list[TopicFreshness]:
        runtime: ServiceRuntime = request.app.state.runtime
        return runtime.freshness()

    @router.get("/relay", summary="Events not yet published to Kafka")
    async def relay(request: Request) -> dict[str, Any]:
        runtime: ServiceRuntime = request.app.state.runtime
        return {
            "backlog": await runtime.store.backlog(),
            "last_error": runtime.relay.last_error if runtime.relay else None,
        }

    return router


def service_main(settings: ServiceSettings, definition: ServiceDefinition) -> None:
    """The command line of every service: ``serve`` (the default) or ``rebuild``."""
    parser = argparse.ArgumentParser(
        prog=f"ucap-{settings.service_name}", description=definition.description
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "rebuild"],
        help="serve the HTTP API (default), or drop and rebuild every view from the events",
    )
    args = parser.parse_args()
    configure_logging(settings.service_name, settings.log_level)
    if args.command == "rebuild":
        report = asyncio.run(rebuild(settings, definition))
        sys.exit(0 if report.ok else 1)
    serve(build_service_app(settings, definition), settings)
