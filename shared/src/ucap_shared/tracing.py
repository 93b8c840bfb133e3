"""Traces end to end with OpenTelemetry, across the outbox and Kafka.

A request's trace runs: the HTTP server span (FastAPI's own telemetry, which the
gateway's upstream calls continue through their ``traceparent``), the MongoDB
commands under it (pymongo's instrumentation), the W3C trace context stored with
the commit it appends (``TRACE_FIELD``), a *publish* span the relay starts as a
child of that stored context, the ``traceparent`` header it puts on each of the
commit's records, a *process* span each consumer continues from that header, and
the span of the consumer batch's view writes.

Only OpenTelemetry's API here: ``ucap_shared.tracing_setup`` installs the SDK, where
the environment names an exporter. Until then (the default) the spans below are the
API's no-op ones, which record nothing, and commits carry no trace context.
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from aiokafka import ConsumerRecord
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from ucap_shared.envelope import Envelope, RecordHeaders

TRACE_FIELD = "trace"
"""The commit document's field holding the W3C trace context of the request that wrote it."""
TRACE_HEADERS = ("traceparent", "tracestate")

_tracer = trace.get_tracer("ucap")


def tracing_on() -> bool:
    """Whether this process has a tracer provider (the API's default is a no-op proxy)."""
    return not isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
    )


# --- the outbox: request -> commit -> relay -> Kafka -----------------------------


def current_trace_context() -> dict[str, str] | None:
    """The W3C trace context of the current span, to store with a commit; None when
    untraced or not sampled (nothing would be recorded downstream either)."""
    span = trace.get_current_span().get_span_context()
    if not span.is_valid or not span.trace_flags.sampled:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


class PublishSpans:
    """The relay's span per traced commit of a batch, each in the trace of the request
    that wrote the commit, and the headers that carry it on the commit's records."""

    def __init__(self, topic: str, commits: Sequence[Mapping[str, Any]]) -> None:
        self._spans: list[trace.Span] = []
        self._headers: dict[str, RecordHeaders] = {}
        for commit in commits:
            stored = commit.get(TRACE_FIELD)
            if not isinstance(stored, dict):
                continue
            span = _tracer.start_span(
                f"publish {topic}",
                context=propagate.extract(stored),
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": topic,
                    "messaging.batch.message_count": len(commit["events"]),
                    "ucap.commit.id": str(commit["_id"]),
                },
            )
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            headers = [(name, value.encode()) for name, value in carrier.items()]
            for event in commit["events"]:
                self._headers[str(event.get("id"))] = headers
            self._spans.append(span)

    def headers(self, envelope: Envelope) -> RecordHeaders:
        """The trace headers for one of the batch's records (none for an untraced commit)."""
        return self._headers.get(str(envelope.id), [])

    async def __aenter__(self) -> "PublishSpans":
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for span in self._spans:
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end()


# --- Kafka -> consumer -> views ------------------------------------------------------


@contextmanager
def processing(
    record: ConsumerRecord[bytes, bytes], group: str, traced: list[SpanContext] | None
) -> Iterator[None]:
    """A consumer span continuing the record's ``traceparent``; nothing for a record
    without one. Its context is added to ``traced`` (the batch's traced records)."""
    carrier = {
        name: value.decode("latin-1")
        for name, value in record.headers or ()
        if name in TRACE_HEADERS and value is not None
    }
    if "traceparent" not in carrier:
        yield
        return
    with _tracer.start_as_current_span(
        f"process {record.topic}",
        context=propagate.extract(carrier),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": record.topic,
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
        },
    ) as span:
        if traced is not None and span.get_span_context().is_valid:
            traced.append(span.get_span_context())
        yield


@contextmanager
def views_written(traced: Sequence[SpanContext], *, documents: int) -> Iterator[None]:
    """The span of a consumer batch's folded view writes (``documents`` to write): a child
    of its first traced record's span, linked to every traced record's; nothing when
    none was traced or there is nothing to write."""
    if not traced or not documents:
        yield
        return
    parent = trace.set_span_in_context(trace.NonRecordingSpan(traced[0]))
    with _tracer.start_as_current_span(
        "write views",
        context=parent,
        kind=SpanKind.INTERNAL,
        links=[Link(context) for context in traced],
        attributes={"ucap.views.records": len(traced), "ucap.views.documents": documents},
    ):
        yield
