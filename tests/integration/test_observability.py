"""Correlation ids travel from the request into events and consumers; metrics are exposed."""

import asyncio
from datetime import UTC, datetime

import httpx
from fastapi import APIRouter, Request

from tests.support.auth import bearer, city_publisher
from tests.support.infra import Infra
from tests.support.tally import Backbone, Counted
from tests.support.waiting import eventually
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.consumer import ConsumerRunner
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.logs import correlation_id
from ucap_shared.mongo import MongoClient
from ucap_shared.settings import ServiceSettings


def tally_app(infra: Infra, unique: str) -> tuple[ServiceDefinition, ServiceSettings]:
    router = APIRouter()

    @router.post("/tallies/{tally_id}")
    async def count(tally_id: str, request: Request) -> dict[str, str]:
        runtime: ServiceRuntime = request.app.state.runtime
        version = await runtime.store.version(tally_id)
        [envelope] = await runtime.store.append(
            tally_id, version, [Counted(amount=1)], actor="test"
        )
        return {"correlationid": str(envelope.correlationid), "time": envelope.time.isoformat()}

    settings = ServiceSettings(
        service_name=f"test-{unique}",
        database=f"test_observe_app_{unique}",
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        mongodb_uri=infra.mongodb_uri,
    )
    return ServiceDefinition(title="tally", description="tally", routers=[router]), settings


class TestOccurredAt:
    async def test_a_caller_importing_history_dates_the_event_and_bad_dates_are_refused(
        self, infra: Infra, mongo: MongoClient, unique: str
    ) -> None:
        definition, settings = tally_app(infra, unique)
        app = build_service_app(settings, definition)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://tally", headers=bearer(settings.service_name)
            ) as client:
                dated = await client.post("/tallies/t1", headers={"X-UCAP-Occurred-At": "2018-07"})
                undated = await client.post("/tallies/t1")
                refused = await client.post("/tallies/t1", headers={"X-UCAP-Occurred-At": "soon"})
                backdating = await client.post(
                    "/tallies/t1",
                    headers={
                        "X-UCAP-Occurred-At": "2018-07",
                        **bearer(settings.service_name, city_publisher("granada")),
                    },
                )
                runtime: ServiceRuntime = app.state.runtime
                then = await runtime.store.as_of("t1", datetime(2019, 1, 1, tzinfo=UTC))
        await mongo.drop_database(settings.database)

        assert dated.json()["time"] == "2018-07-01T12:00:00+00:00"
        assert undated.json()["time"] > "2026"
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["header", "X-UCAP-Occurred-At"]
        assert [e.sequence for e in then] == [1]
        assert backdating.status_code == 403, "only an admin may date history"


class TestCorrelation:
    async def test_the_request_header_becomes_the_events_correlation_id(
        self, infra: Infra, mongo: MongoClient, unique: str
    ) -> None:
        definition, settings = tally_app(infra, unique)
        app = build_service_app(settings, definition)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://tally", headers=bearer(settings.service_name)
            ) as client:
                given = await client.post("/tallies/t1", headers={"X-Correlation-ID": "req-42"})
                generated = await client.post("/tallies/t1")
                metrics = await client.get("/metrics")
        await mongo.drop_database(settings.database)

        assert given.json()["correlationid"] == "req-42"
        assert given.headers["X-Correlation-ID"] == "req-42"
        assert generated.json()["correlationid"] == generated.headers["X-Correlation-ID"]
        assert len(generated.headers["X-Correlation-ID"]) == 36
        assert 'ucap_events_appended_total{service="ucap/test-' in metrics.text

    async def test_a_consumer_handles_each_event_under_its_correlation_id(
        self, backbone: Backbone
    ) -> None:
        seen: list[str | None] = []
        handlers = Handlers(backbone.topic, "ucap.tally.")

        @handlers.on(Counted)
        async def on_counted(envelope: Envelope, data: Counted) -> None:
            seen.append(correlation_id.get())

        token = correlation_id.set("from-the-request")
        try:
            await backbone.store.append("t1", 0, [Counted(amount=1)], actor="test")
        finally:
            correlation_id.reset(token)
        relay = backbone.relay(backbone.store)
        consumer = ConsumerRunner(
            bootstrap_servers=backbone.bootstrap,
            group=f"observe-{backbone.topic}",
            handlers=[handlers],
            database=backbone.database,
            dead_letter_topic=backbone.dlq,
        )
        relay.start()
        consumer.start()
        try:
            await eventually(lambda: asyncio.sleep(0, result=bool(seen)), timeout=30)
        finally:
            await consumer.stop()
            await relay.stop()
        assert seen == ["from-the-request"]
        assert consumer.freshness[backbone.topic].last_event_time is not None
