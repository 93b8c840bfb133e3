"""OpenTelemetry's SDK, installed where the environment names an exporter.

What is exported is chosen by the standard environment: ``OTEL_TRACES_EXPORTER``
(``otlp``, ``console``, or any installed exporter's name; ``none``) and, for OTLP,
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``. With
neither set (the default) no tracer provider is installed: FastAPI's telemetry stays
off, MongoDB and httpx are not instrumented, and ``ucap_shared.tracing`` records
nothing.
"""

import os
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

from ucap_shared.tracing import tracing_on

EXPORTERS_GROUP = "opentelemetry_traces_exporter"
OTLP_OVER_HTTP = "otlp_proto_http"
FLUSH_MILLISECONDS = 5_000


class TracingConfigurationError(ValueError):
    """The environment asks for an exporter this installation cannot provide."""


def configure_tracing(service_name: str) -> bool:
    """Install a tracer provider exporting where the environment says; whether tracing is on.

    Off (False, nothing installed) when the environment names no exporter. A provider
    already installed in this process (by an earlier app, or a test's in-memory one)
    is kept. MongoDB commands are traced from here on: call this before the client is
    built.
    """
    if not tracing_on():
        exporters = exporters_from_environment()
        if not exporters:
            return False
        attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
        provider = TracerProvider(
            resource=Resource.create(attributes),
            sampler=None if os.environ.get("OTEL_TRACES_SAMPLER") else ParentBased(RootsServed()),
        )
        for exporter in exporters:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    instrumentor = PymongoInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
    return True


def flush_traces() -> None:
    """Export what is still buffered (at shutdown: the last spans of a stopping service)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(FLUSH_MILLISECONDS)


def exporters_from_environment(environ: Mapping[str, str] = os.environ) -> list[SpanExporter]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names; OTLP by default once an OTLP endpoint is
    set, none otherwise. OTLP is sent over HTTP (protobuf), the protocol installed."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    endpoint_set = any(
        environ.get(name)
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    listed = environ.get("OTEL_TRACES_EXPORTER") or ("otlp" if endpoint_set else "none")
    names = [name.strip().lower() for name in listed.split(",") if name.strip()]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "none":
            continue
        if name == "otlp":
            protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
            )
            if protocol != "http/protobuf":
                raise TracingConfigurationError(
                    f"OTLP over {protocol} is not installed; use http/protobuf (port 4318)"
                )
            name = OTLP_OVER_HTTP
        found = entry_points(group=EXPORTERS_GROUP, name=name)
        if not found:
            raise TracingConfigurationError(f"OTEL_TRACES_EXPORTER names {name!r}: not installed")
        exporter_class = next(iter(found)).load()
        exporters.append(exporter_class())
    return exporters


class RootsServed(Sampler):
    """Root spans of work someone asked for (a request served, a record processed), not
    of the background's own calls: the relay's polls, lease renewals and the gateway's
    refreshes of kept answers start at a client span, and are not sampled, nor what
    they call (ParentBased follows the decision)."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "RootsServed"
