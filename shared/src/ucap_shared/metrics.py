"""Prometheus metrics every service exposes: on ``/metrics`` to admins, and to a scraper on
the metrics listener (``UCAP_<SERVICE>_METRICS_PORT``, loopback), which needs no token."""

import logging

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Enum,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

log = logging.getLogger(__name__)

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

HTTP_REQUESTS = Counter(
    "ucap_http_requests_total",
    "HTTP requests answered, by route template (not the raw path), method and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "ucap_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "ucap_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest commit the relay has not published yet (0 when none waits)",
    ["service"],
)
HELD_EVENTS = Gauge(
    "ucap_consumer_held_events",
    "Events held back after a gap in their stream, waiting for the missing one",
    ["group", "topic"],
)
DEAD_LETTERS = Gauge(
    "ucap_dead_letter_records",
    "Records on the service's dead-letter topic",
    ["topic"],
)
DEAD_LETTERS_WAITING = Gauge(
    "ucap_dead_letter_unreplayed",
    "Records on the service's dead-letter topic not replayed yet (`ucap dlq replay`)",
    ["topic"],
)
HEALTH = Enum(
    "ucap_health_check",
    "Each readiness check's last outcome: ok, degraded (serving, needs an operator) or failing",
    ["check"],
    states=["ok", "degraded", "failing"],
)
SAMPLED_AT = Gauge(
    "ucap_metrics_sampled_timestamp_seconds",
    "When the sampled gauges (outbox, held events, dead letters, health) were last read",
)


class MetricsListener:
    """Serves the metrics to a scraper, without credentials, in a thread of
    prometheus_client's own: a scrape answers while the event loop is busy."""

    def __init__(self, host: str, port: int) -> None:
        self._server, self._thread = start_http_server(port, addr=host)
        self.host, self.port = host, int(self._server.server_port)
        log.info("metrics listener started", extra={"host": host, "port": self.port})

    @classmethod
    def started(cls, host: str, port: int | None) -> "MetricsListener | None":
        """One on ``host``:``port``; none when no port is configured."""
        return None if port is None else cls(host, port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
