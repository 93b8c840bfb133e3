from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from fastapi import FastAPI

from ucap_gateway.config import Settings
from ucap_gateway.feeds import FeedGate
from ucap_gateway.gatekeeper import install_gatekeeper
from ucap_gateway.iati import Publisher
from ucap_gateway.iati_routes import router as iati_router
from ucap_gateway.iati_sources import iati_keeper
from ucap_gateway.kept_answers import programme_keeper, status_keeper
from ucap_gateway.keys import KeyStore
from ucap_gateway.live import watching_events
from ucap_gateway.login import router as login_router
from ucap_gateway.openapi import install_merged_openapi, upstream_documents_fetched
from ucap_gateway.pilot_sheets import router as pilot_sheets_router
from ucap_gateway.ratelimit import RateLimiter
from ucap_gateway.routing import forwarding_router
from ucap_gateway.status_routes import prerendered
from ucap_gateway.status_routes import router as status_router
from ucap_gateway.upstreams import Upstreams
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.settings import ServiceSettings


@asynccontextmanager
async def background(app: FastAPI, runtime: ServiceRuntime) -> AsyncIterator[None]:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    upstreams = Upstreams(
        settings.upstream_urls(),
        timeout=settings.upstream_timeout_seconds,
        signing_key=settings.signing_key(),
        token_ttl=settings.token_ttl_seconds,
    )
    app.state.upstreams = upstreams
    app.state.keys = KeyStore(runtime.database, trust_seconds=settings.key_trust_seconds)
    await app.state.keys.create_indexes()
    app.state.rate_limiter = RateLimiter(
        per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst
    )
    app.state.auth_failures = RateLimiter(
        per_second=settings.auth_failures_per_second, burst=settings.auth_failures_burst
    )
    install_merged_openapi(app)
    statuses = status_keeper(
        upstreams,
        part_timeout=settings.status_part_timeout_seconds,
        refresh_seconds=settings.kept_refresh_seconds,
        whole_seconds=settings.kept_whole_seconds,
        capacity=settings.kept_capacity,
        prerender=prerendered,
    )
    programmes = programme_keeper(
        upstreams,
        refresh_seconds=settings.kept_refresh_seconds,
        capacity=settings.kept_capacity,
        part_timeout=settings.status_part_timeout_seconds,
    )
    app.state.status_keeper, app.state.programme_keeper = statuses, programmes
    activities = iati_keeper(
        upstreams,
        Publisher(
            ref=settings.iati_org_ref,
            name=settings.iati_org_name,
            type=settings.iati_org_type,
            language=settings.iati_language,
        ),
        part_timeout=settings.status_part_timeout_seconds,
        refresh_seconds=settings.kept_refresh_seconds,
        capacity=settings.kept_capacity,
    )
    app.state.iati_keeper = activities
    app.state.feed_gate = FeedGate(
        per_key=settings.live_feeds_per_key,
        total=settings.live_feeds_total,
        is_active=app.state.keys.is_active,
        check_seconds=settings.live_key_check_seconds,
    )
    # Production services serve no documents (nor does this gateway serve the merged one).
    documents = nullcontext() if settings.production else upstream_documents_fetched(app, upstreams)
    try:
        async with (
            documents,
            watching_events(settings.kafka_bootstrap_servers, [statuses, programmes, activities]),
        ):
            yield
    finally:
        await statuses.close()
        await programmes.close()
        await activities.close()
        await upstreams.close()
        await app.state.keys.touches_written()


def install(app: FastAPI, settings: ServiceSettings) -> None:
    install_gatekeeper(app, docs_open=not settings.production)


DEFINITION = ServiceDefinition(
    title="ucap gateway",
    description=(
        "The public entry to ucap: cities, MoUs, pilots and U-CAPs under one origin, "
        "and the live, compiled U-CAP status."
    ),
    # The pilots list as a spreadsheet, before the forwarding of /pilots.
    routers=(status_router, iati_router, login_router, pilot_sheets_router, forwarding_router()),
    publishes_events=False,
    background=background,
    verifies_tokens=False,
    install=install,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(settings or Settings(), DEFINITION)
