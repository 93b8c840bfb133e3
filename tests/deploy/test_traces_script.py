"""deploy/local/ucap_traces.py: what the SDK's OTLP exporter sends is kept, printed as a tree."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from tests.support.served import served
from ucap_traces import latest_write, read_spans, receiver, render


@pytest.fixture
def collected(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A running receiver's traces endpoint and the file it writes."""
    file = tmp_path / "spans.jsonl"
    server = receiver(0, file)
    with served(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", file


def exported_by(service: str, endpoint: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


class TestTheTracesScript:
    def test_a_write_is_printed_from_its_first_span_down_across_services(
        self, collected: tuple[str, Path]
    ) -> None:
        endpoint, file = collected
        gateway, pilots = exported_by("gw", endpoint), exported_by("pl", endpoint)
        tracer = gateway.get_tracer("test")
        with tracer.start_as_current_span("GET /ucaps/{ucap_id}/status", kind=SpanKind.SERVER):
            pass
        with (
            tracer.start_as_current_span("POST /pilots/{pilot_id}/progress", kind=SpanKind.SERVER),
            tracer.start_as_current_span("POST", kind=SpanKind.CLIENT),
            pilots.get_tracer("test").start_as_current_span(
                "publish ucap.pilots.events",
                kind=SpanKind.PRODUCER,
                attributes={"messaging.destination.name": "ucap.pilots.events"},
            ) as published,
        ):
            pass
        gateway.shutdown()
        pilots.shutdown()

        spans = read_spans(file)
        trace_id = latest_write(spans)
        lines = render(spans, trace_id)

        assert trace_id == f"{published.get_span_context().trace_id:032x}"
        assert lines[0] == f"trace {trace_id}: 3 spans in {lines[0].split(' in ')[1]}"
        assert "gw server 'POST /pilots/{pilot_id}/progress'" in lines[1]
        assert "  gw client 'POST'" in lines[2]
        assert lines[3].endswith(
            "    pl producer 'publish ucap.pilots.events'  "
            "messaging.destination.name=ucap.pilots.events"
        )
