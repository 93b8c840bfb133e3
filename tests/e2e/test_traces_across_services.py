"""Real service processes export their spans over OTLP, as configured by the environment.

The gateway, cities and mous run as processes with ``OTEL_EXPORTER_OTLP_ENDPOINT``
pointing at ``deploy/local/ucap_traces.py``'s receiver. A city registered through the
gateway is one trace: the gateway's request and call, the cities service's request and
its commit's insert, its relay's publish, and mous's consumer writing its copy of the
city. Health probes and the services' background work make no trace.
"""

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.keys import auth, create_key
from tests.support.processes import RunningService, free_port, run_service, run_services
from tests.support.served import served
from tests.support.stack import isolated_env
from tests.support.waiting import eventually
from ucap_traces import SpanLine, read_spans, receiver, render


@pytest.fixture
def spans_file(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The receiver's endpoint and the file it appends the spans to."""
    file = tmp_path / "spans.jsonl"
    server = receiver(0, file)
    with served(server):
        yield f"http://127.0.0.1:{server.server_address[1]}", file


@pytest.fixture
def traced_stack(
    service_env: dict[str, str], spans_file: tuple[str, Path], log_dir: Path
) -> Iterator[RunningService]:
    endpoint, _ = spans_file
    env = {
        **isolated_env(service_env, uuid.uuid4().hex[:8]),
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    with ExitStack() as stack:
        running = stack.enter_context(run_services(("cities", "mous"), env, log_dir))
        cities, mous = running["cities"], running["mous"]
        gateway_env = {
            **env,
            "UCAP_GATEWAY_CITIES_URL": cities.url,
            "UCAP_GATEWAY_MOUS_URL": mous.url,
            "UCAP_GATEWAY_PILOTS_URL": f"http://127.0.0.1:{free_port()}",
            "UCAP_GATEWAY_REPORTING_URL": f"http://127.0.0.1:{free_port()}",
        }
        admin = create_key(gateway_env, principal="ops:trace", roles=["admin"])["key"]
        gateway = stack.enter_context(run_service("gateway", gateway_env, log_dir))
        gateway.headers = auth(admin)
        yield gateway


def city(city_id: str) -> dict[str, object]:
    return {
        "id": city_id,
        "name": "Liuzhou",
        "native_name": "柳州",
        "region": "Guangxi",
        "country": "CN",
        "world_region": "Asia",
        "population": {"known": False},
        "clusters": ["Smart City"],
    }


def only(spans: list[SpanLine], what: str) -> SpanLine:
    assert len(spans) == 1, f"{what}: {[(s['service'], s['name']) for s in spans]}"
    return spans[0]


def collection(span: SpanLine) -> object:
    """A MongoDB command's collection, under either generation of the conventions."""
    attributes = span["attributes"]
    return attributes.get("db.collection.name") or attributes.get("db.mongodb.collection")


def writes_to(spans: list[SpanLine], service: str, name: str) -> list[SpanLine]:
    return [
        s
        for s in spans
        if s["service"] == service
        and collection(s) == name
        and s["name"].split(".")[-1] in ("insert", "update")
    ]


def chain(span: SpanLine, spans: list[SpanLine]) -> list[str]:
    """The service and kind of each span above ``span``, up to the trace's first."""
    by_id = {s["span_id"]: s for s in spans}
    above = []
    parent = by_id.get(span["parent_id"])
    while parent is not None:
        above.append(f"{parent['service']} {parent['kind']}")
        parent = by_id.get(parent["parent_id"])
    return above


class TestTracesAcrossServices:
    async def test_a_city_registered_through_the_gateway_is_one_trace_to_mous_view(
        self, traced_stack: RunningService, spans_file: tuple[str, Path]
    ) -> None:
        gateway, (_, file) = traced_stack, spans_file
        async with httpx.AsyncClient(base_url=gateway.url, headers=gateway.headers) as client:
            created = await client.post("/cities", json=city(f"liuzhou-{uuid.uuid4().hex[:6]}"))
        assert created.status_code == 201, created.text

        async def copied_by_mous() -> list[SpanLine] | None:
            spans = read_spans(file) if file.exists() else []
            return spans if writes_to(spans, "ucap-mous", "cities_view") else None

        spans = await eventually(copied_by_mous, timeout=60, interval=0.3)
        request = only(
            [s for s in spans if s["service"] == "ucap-gateway" and s["name"] == "POST /cities"],
            "the gateway's request",
        )
        in_trace = [s for s in spans if s["trace_id"] == request["trace_id"]]
        tree = "\n".join(render(spans, request["trace_id"]))
        [copy] = writes_to(in_trace, "ucap-mous", "cities_view")
        [commit] = writes_to(in_trace, "ucap-cities", "events")

        assert chain(commit, in_trace) == [
            "ucap-cities server",
            "ucap-gateway client",
            "ucap-gateway server",
        ], tree
        assert chain(copy, in_trace) == [
            "ucap-mous consumer",
            "ucap-cities producer",
            "ucap-cities server",
            "ucap-gateway client",
            "ucap-gateway server",
        ], tree
        roots = [s for s in spans if s["parent_id"] is None]
        assert {s["kind"] for s in roots} == {"server"}, "background work starts no trace"
        assert not [s for s in spans if "/health" in s["name"]], "probes are not traced"
