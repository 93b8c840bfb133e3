"""One trace from the gateway's upstream call to another service's view, across the outbox.

A writing service (served over real HTTP, its relay on the real Kafka) and a reading
service (its consumer folding a view in batches, as reporting's status documents are)
run in-process on the real Kafka and MongoDB-protocol server, with an in-memory span
exporter. A write made through the gateway's upstream client is followed from that
call to the reading service's view write: one trace id, each span the child of the one
before.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

from tests.support.auth import ADMIN
from tests.support.infra import Infra
from tests.support.processes import free_port
from tests.support.tally import Counted, tally_handlers
from tests.support.waiting import eventually
from ucap_gateway.upstreams import Upstreams
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.auth import DEVELOPMENT_KEY, current_principal
from ucap_shared.logs import JsonFormatter
from ucap_shared.mongo import MongoClient
from ucap_shared.settings import ServiceSettings
from ucap_shared.topics import events_topic
from ucap_shared.tracing import TRACE_FIELD, tracing_on
from ucap_shared.tracing_setup import TracingConfigurationError, exporters_from_environment
from ucap_shared.views import batch_writes


class Switch(Sampler):
    """Samples while this module runs; afterwards the process's provider records nothing."""

    def __init__(self) -> None:
        self.on = True

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
        if not self.on:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "Switch"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider (set once per process), exporting to memory."""
    switch = Switch()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=switch)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    assert trace.get_tracer_provider() is provider, "another tracer provider was set first"
    yield exporter
    switch.on = False
    exporter.clear()


def writing_service(infra: Infra, name: str) -> FastAPI:
    router = APIRouter()

    @router.post("/tallies/{tally_id}")
    async def count(tally_id: str, request: Request) -> dict[str, int]:
        runtime: ServiceRuntime = request.app.state.runtime
        version = await runtime.store.version(tally_id)
        [event] = await runtime.store.append(tally_id, version, [Counted(amount=1)], actor="test")
        return {"sequence": event.sequence}

    settings = ServiceSettings(
        service_name=name,
        audience="tally",  # the name the gateway's upstream client calls it by
        database=f"test_{name}",
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        mongodb_uri=infra.mongodb_uri,
        kafka_topic_partitions=1,
    )
    return build_service_app(
        settings, ServiceDefinition(title=name, description=name, routers=[router])
    )


def reading_service(infra: Infra, name: str, topic: str, view: str) -> FastAPI:
    settings = ServiceSettings(
        service_name=name,
        database=f"test_{name}",
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        mongodb_uri=infra.mongodb_uri,
        kafka_topic_partitions=1,
    )
    definition = ServiceDefinition(
        title=name,
        description=name,
        handlers=lambda runtime: [tally_handlers(topic, runtime.database[view])],
        publishes_events=False,
    )
    return build_service_app(settings, definition)


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` started and served over HTTP on a free port; its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    async with app.router.lifespan_context(app):
        serving = asyncio.create_task(server.serve())
        try:
            await eventually(lambda: _started(server), timeout=10)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await serving


async def _started(server: uvicorn.Server) -> bool:
    return server.started


def one(found: Sequence[ReadableSpan], what: str) -> ReadableSpan:
    assert len(found) == 1, f"{what}: {[s.name for s in found]}"
    return found[0]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def attribute(span: ReadableSpan, name: str) -> object:
    return (span.attributes or {}).get(name)


def collection_of(span: ReadableSpan) -> object:
    """A MongoDB command's collection, under either generation of the conventions."""
    return attribute(span, "db.collection.name") or attribute(span, "db.mongodb.collection")


class TestARequestsTrace:
    async def test_runs_from_the_gateways_call_through_the_relay_and_kafka_to_a_view_write(
        self, spans: InMemorySpanExporter, infra: Infra, mongo: MongoClient, unique: str
    ) -> None:
        writer, reader = f"tr-write-{unique}", f"tr-read-{unique}"
        topic, view = events_topic(writer), f"traced_tallies_{unique}"
        batch_writes(view)  # folded per batch, as reporting's status documents are
        tracer = trace.get_tracer("test")
        reading = reading_service(infra, reader, topic, view)
        try:
            async with (
                served(writing_service(infra, writer)) as url,
                reading.router.lifespan_context(reading),
            ):
                upstreams = Upstreams(
                    {"tally": url}, timeout=10, signing_key=DEVELOPMENT_KEY, token_ttl=60
                )
                principal = current_principal.set(ADMIN)
                try:
                    with tracer.start_as_current_span("gateway request", kind=SpanKind.SERVER):
                        answer = await upstreams.request("tally", "POST", "/tallies/t1")
                finally:
                    current_principal.reset(principal)
                    await upstreams.close()
                assert answer.status_code == 200, answer.text
                commit = await mongo[f"test_{writer}"]["events"].find_one({"_id": "t1@1"})
                await eventually(
                    lambda: mongo[f"test_{reader}"][view].find_one({"_id": "t1"}), timeout=60
                )
                await eventually(lambda: _has(spans, "write views"), timeout=10)
        finally:
            await mongo.drop_database(f"test_{writer}")
            await mongo.drop_database(f"test_{reader}")

        finished = spans.get_finished_spans()
        root = one([s for s in finished if s.name == "gateway request"], "the gateway's span")
        assert root.context is not None
        in_trace = [
            s for s in finished if s.context and s.context.trace_id == root.context.trace_id
        ]
        call = one([s for s in in_trace if s.kind is SpanKind.CLIENT and s.name == "POST"], "call")
        served_span = one(
            [s for s in in_trace if s.kind is SpanKind.SERVER and s is not root], "server"
        )
        appended = one(
            [s for s in in_trace if s.name.endswith(".insert") and collection_of(s) == "events"],
            "the commit's insert",
        )
        published = one([s for s in in_trace if s.kind is SpanKind.PRODUCER], "publish")
        processed = one(
            [
                s
                for s in in_trace
                if s.kind is SpanKind.CONSUMER
                and attribute(s, "messaging.consumer.group.name") == reader
            ],
            "process",
        )
        written = one([s for s in in_trace if s.name == "write views"], "the view write")
        view_commands = [
            s for s in in_trace if parent_of(s) == span_id(written) and collection_of(s) == view
        ]

        assert commit is not None
        assert f"-{span_id(served_span):016x}-" in commit[TRACE_FIELD]["traceparent"]
        assert parent_of(call) == span_id(root)
        assert parent_of(served_span) == span_id(call), "the service continues the gateway's call"
        assert parent_of(appended) == span_id(served_span)
        assert published.name == f"publish {topic}"
        assert parent_of(published) == span_id(served_span), "the relay's span is the request's"
        assert parent_of(processed) == span_id(published), "the consumer continues the record's"
        assert parent_of(written) == span_id(processed)
        assert view_commands, "the view's write is a MongoDB command under the write span"


async def _has(exporter: InMemorySpanExporter, name: str) -> bool:
    return any(s.name == name for s in exporter.get_finished_spans())


class TestLogLines:
    def test_a_line_logged_in_a_span_names_its_trace_and_span(
        self, spans: InMemorySpanExporter
    ) -> None:
        formatter = JsonFormatter("test")
        record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO"})
        outside = json.loads(formatter.format(record))
        with trace.get_tracer("test").start_as_current_span("work") as span:
            inside = json.loads(formatter.format(record))
        context = span.get_span_context()

        assert "trace_id" not in outside
        assert inside["trace_id"] == f"{context.trace_id:032x}"
        assert inside["span_id"] == f"{context.span_id:016x}"
        assert tracing_on()


class TestExporterChoice:
    def test_none_by_default_so_nothing_is_installed(self) -> None:
        assert exporters_from_environment({}) == []
        assert exporters_from_environment({"OTEL_TRACES_EXPORTER": "none"}) == []

    def test_otlp_over_http_once_an_endpoint_is_set(self) -> None:
        [exporter] = exporters_from_environment(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
        )
        assert isinstance(exporter, OTLPSpanExporter)
        assert (
            exporters_from_environment(
                {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
                    "OTEL_SDK_DISABLED": "true",
                }
            )
            == []
        )

    def test_the_exporters_named(self) -> None:
        exporters = exporters_from_environment({"OTEL_TRACES_EXPORTER": "console,otlp"})
        assert [type(e) for e in exporters] == [ConsoleSpanExporter, OTLPSpanExporter]

    @pytest.mark.parametrize(
        "environ",
        [
            {"OTEL_TRACES_EXPORTER": "jaeger-thrift"},
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        ],
    )
    def test_one_not_installed_stops_the_start(self, environ: dict[str, str]) -> None:
        with pytest.raises(TracingConfigurationError):
            exporters_from_environment(environ)
