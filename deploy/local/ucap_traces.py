"""The services' spans as text: a small OTLP receiver, and one trace printed as a tree.

    python deploy/local/ucap_traces.py collect [--port 4318] [--file FILE]
    python deploy/local/ucap_traces.py show [TRACE_ID] [--file FILE]

``collect`` answers OTLP over HTTP (``POST /v1/traces``, protobuf, what the services
send once ``OTEL_EXPORTER_OTLP_ENDPOINT`` points at it) and appends each span as one
JSON line to FILE (``$UCAP_RUN_DIR/spans.jsonl``, ``.run/`` by default). ``show``
prints one trace from that file, each span under its parent: when it started after
the trace's first span, how long it took, its service, kind and name, and what it
touched. Without a trace id, the latest write's (a trace whose first span is a
server span for POST, PUT, PATCH or DELETE): a progress update posted through the
gateway, from the gateway to the reporting view.
"""

import argparse
import gzip
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE = Path(os.environ.get("UCAP_RUN_DIR") or REPO_ROOT / ".run") / "spans.jsonl"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
KINDS = {
    ProtoSpan.SPAN_KIND_INTERNAL: "internal",
    ProtoSpan.SPAN_KIND_SERVER: "server",
    ProtoSpan.SPAN_KIND_CLIENT: "client",
    ProtoSpan.SPAN_KIND_PRODUCER: "producer",
    ProtoSpan.SPAN_KIND_CONSUMER: "consumer",
}
SHOWN_ATTRIBUTES = (
    "http.route",
    "http.response.status_code",
    "db.collection.name",
    "db.mongodb.collection",
    "messaging.destination.name",
    "messaging.consumer.group.name",
    "ucap.commit.id",
)
SpanLine = dict[str, Any]


# --- collect -----------------------------------------------------------------------------


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, object]:
    return {pair.key: _value(pair.value) for pair in pairs}


def span_lines(request: ExportTraceServiceRequest) -> Iterator[SpanLine]:
    """Each span of an OTLP export as one flat JSON-ready mapping."""
    for resource_spans in request.resource_spans:
        service = _attributes(resource_spans.resource.attributes).get("service.name", "?")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_id": span.parent_span_id.hex() or None,
                    "service": service,
                    "name": span.name,
                    "kind": KINDS.get(span.kind, "internal"),
                    "start_ns": span.start_time_unix_nano,
                    "end_ns": span.end_time_unix_nano,
                    "error": span.status.code == span.status.STATUS_CODE_ERROR,
                    "attributes": _attributes(span.attributes),
                }


def receiver(port: int, file: Path) -> ThreadingHTTPServer:
    """An OTLP/HTTP trace receiver on ``port`` (0: any free one) appending to ``file``."""
    file.parent.mkdir(parents=True, exist_ok=True)
    lock = Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/traces":
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest.FromString(body)
            lines = [json.dumps(line) for line in span_lines(request)]
            with lock, file.open("a") as out:
                out.writelines(f"{line}\n" for line in lines)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:  # quiet: spans are the output
            return

    return ThreadingHTTPServer(("127.0.0.1", port), Receiver)


def collect(port: int, file: Path) -> None:
    server = receiver(port, file)
    print(f"OTLP receiver at http://127.0.0.1:{port}; spans to {file}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# --- show --------------------------------------------------------------------------------


def read_spans(file: Path) -> list[SpanLine]:
    if not file.exists():
        raise SystemExit(f"no spans yet: {file} does not exist (is `collect` running?)")
    with file.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]


def latest_write(spans: list[SpanLine]) -> str:
    """The trace id of the latest trace whose first span is a server span for a write."""
    roots = [
        span
        for span in spans
        if span["parent_id"] is None
        and span["kind"] == "server"
        and span["name"].split(" ")[0] in WRITES
    ]
    if not roots:
        raise SystemExit("no write's trace among the spans collected yet")
    return str(max(roots, key=lambda span: span["start_ns"])["trace_id"])


def render(spans: list[SpanLine], trace_id: str) -> list[str]:
    """The trace as lines of text, each span under its parent, in the order they started."""
    in_trace = [span for span in spans if span["trace_id"] == trace_id]
    if not in_trace:
        raise SystemExit(f"no span of trace {trace_id}")
    known = {span["span_id"] for span in in_trace}
    children: dict[str | None, list[SpanLine]] = defaultdict(list)
    for span in in_trace:
        parent = span["parent_id"] if span["parent_id"] in known else None
        children[parent].append(span)
    start = min(span["start_ns"] for span in in_trace)
    end = max(span["end_ns"] for span in in_trace)
    lines = [f"trace {trace_id}: {len(in_trace)} spans in {(end - start) / 1e6:.1f} ms"]

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children[parent], key=lambda s: s["start_ns"]):
            offset = (span["start_ns"] - start) / 1e6
            took = (span["end_ns"] - span["start_ns"]) / 1e6
            touched = " ".join(
                f"{name}={span['attributes'][name]}"
                for name in SHOWN_ATTRIBUTES
                if name in span["attributes"]
            )
            lines.append(
                f"{offset:9.1f} ms {took:8.1f} ms  {'  ' * depth}{span['service']} "
                f"{span['kind']} {span['name']!r}{' ERROR' if span['error'] else ''}"
                f"{'  ' + touched if touched else ''}"
            )
            walk(span["span_id"], depth + 1)

    walk(None, 0)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collecting = commands.add_parser("collect", help="receive OTLP spans into FILE")
    collecting.add_argument("--port", type=int, default=4318)
    collecting.add_argument("--file", type=Path, default=DEFAULT_FILE)
    showing = commands.add_parser("show", help="print one trace (the latest write's)")
    showing.add_argument("trace_id", nargs="?", help="32 hex digits; default: the latest write")
    showing.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    if args.command == "collect":
        collect(args.port, args.file)
        return 0
    spans = read_spans(args.file)
    print("\n".join(render(spans, args.trace_id or latest_write(spans))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
