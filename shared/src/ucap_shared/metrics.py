"""Prometheus metrics every service exposes on ``/metrics``."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

EVENTS_APPENDED = Counter(
    "ucap_events_appended_total", "Events appended to the event store", ["service", "type"]
)
EVENTS_PUBLISHED = Counter("ucap_events_published_total", "Events the relay published", ["topic"])
EVENTS_CONSUMED = Counter(
    "ucap_events_consumed_total",
    "Records consumed, by outcome (applied, duplicate, held, ignored, dead_lettered)",
    ["group", "topic", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "ucap_events_dead_lettered_total", "Records sent to the dead-letter topic", ["group", "topic"]
)
HANDLER_SECONDS = Histogram(
    "ucap_handler_seconds", "Time to apply one event to the views", ["group", "type"]
)
RELAY_BACKLOG = Gauge("ucap_relay_backlog", "Commits not yet published", ["service"])
RELAY_PARKED = Gauge(
    "ucap_relay_parked_commits",
    "Commits the relay parked because Kafka refuses them; their aggregates' later commits "
    "wait behind them (`ucap parked list`)",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "ucap_consumer_lag", "Records behind the end of the partition", ["group", "topic", "partition"]
)


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
