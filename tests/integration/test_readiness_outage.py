"""A service whose broker stops stays ready (200) with its relay degraded, in the body and in
the scraped metrics, keeps its writes in the outbox, and is plainly ready once it is back."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request

import ucap_infra
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import free_port
from tests.support.tally import Counted
from tests.support.waiting import eventually
from ucap_shared.app import ServiceDefinition, ServiceRuntime, build_service_app
from ucap_shared.mongo import MongoClient
from ucap_shared.settings import ServiceSettings

pytestmark = pytest.mark.outage


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[ucap_infra.KafkaServer]:
    """A broker of this test's own, so stopping it disturbs nothing else."""
    server = ucap_infra.KafkaServer(
        port=free_port(),
        controller_port=free_port(),
        heap="384m",
        home=tmp_path / "kafka",
        name=f"kafka-test-{tmp_path.name}",
    )
    server.prepare()
    yield server
    server.process.stop()


async def started(server: ucap_infra.KafkaServer) -> None:
    server.start()

    async def answers() -> bool:
        try:
            await server.ping()
        except Exception:  # noqa: BLE001 - not up yet
            return False
        return True

    await eventually(answers, timeout=90, interval=0.25)


def tally_service(bootstrap: str, infra: Infra, unique: str) -> tuple[FastAPI, ServiceSettings]:
    router = APIRouter()

    @router.post("/tallies/{tally_id}")
    async def count(tally_id: str, request: Request) -> dict[str, int]:
        runtime: ServiceRuntime = request.app.state.runtime
        version = await runtime.store.version(tally_id)
        await runtime.store.append(tally_id, version, [Counted(amount=1)], actor="test")
        return {"version": version + 1}

    settings = ServiceSettings(
        service_name=f"test-{unique}",
        database=f"test_outage_{unique}",
        kafka_bootstrap_servers=bootstrap,
        mongodb_uri=infra.mongodb_uri,
        metrics_port=0,
        metrics_sample_seconds=0.5,
    )
    definition = ServiceDefinition(title="tally", description="tally", routers=[router])
    return build_service_app(settings, definition), settings


@pytest.fixture
async def mongo_cleanup(mongo: MongoClient, unique: str) -> AsyncIterator[None]:
    yield
    await mongo.drop_database(f"test_outage_{unique}")


class TestKafkaOutage:
    @pytest.mark.usefixtures("mongo_cleanup")
    async def test_ready_with_the_relay_degraded_then_ready_again(
        self, own_kafka: ucap_infra.KafkaServer, infra: Infra, unique: str
    ) -> None:
        await started(own_kafka)
        app, settings = tally_service(own_kafka.bootstrap, infra, unique)
        service = f"ucap/{settings.service_name}"
        async with app.router.lifespan_context(app):
            runtime: ServiceRuntime = app.state.runtime
            assert runtime.metrics_listener is not None
            scrape_url = f"http://127.0.0.1:{runtime.metrics_listener.port}/metrics"
            async with (
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://tally",
                    headers=bearer(settings.service_name),
                ) as client,
                httpx.AsyncClient() as scraper,
            ):

                async def readiness(wanted: str) -> dict[str, Any] | None:
                    answer = await client.get("/health/ready")
                    return answer.json() if wanted in answer.text else None

                before = await eventually(lambda: readiness('"status":"ready"'), timeout=60)

                own_kafka.process.stop()
                written = await client.post("/tallies/t1")
                during = await client.get("/health/ready")
                degraded = await eventually(
                    lambda: readiness("(1 commit(s) waiting)"), timeout=60, interval=0.2
                )

                async def scraped(wanted: str) -> str | None:
                    text = (await scraper.get(scrape_url)).text
                    return text if wanted in text else None

                scrape = await eventually(
                    lambda: scraped(f'ucap_relay_backlog{{service="{service}"}} 1.0'), timeout=30
                )
                scrape = await eventually(
                    lambda: scraped('check="relay",ucap_health_check="degraded"} 1.0'), timeout=30
                )

                await started(own_kafka)
                after = await eventually(lambda: readiness('"status":"ready"'), timeout=90)
                drained = await eventually(
                    lambda: scraped(
                        f'ucap_outbox_oldest_unpublished_age_seconds{{service="{service}"}} 0.0'
                    ),
                    timeout=60,
                )

        assert before["checks"] == {"kafka": "ok", "mongodb": "ok", "relay": "ok"}
        assert written.status_code == 200, "a write succeeds: the outbox keeps it"
        assert during.status_code == 200, during.text
        assert degraded["status"] == "degraded"
        assert degraded["failing"] == []
        assert set(degraded["degraded"]) == {"kafka", "relay"}
        assert degraded["details"]["relay"]["backlog"] == 1
        assert 'ucap_health_check{check="kafka",ucap_health_check="degraded"} 1.0' in scrape
        age = next(
            line
            for line in scrape.splitlines()
            if line.startswith("ucap_outbox_oldest_unpublished")
        )
        assert float(age.split()[-1]) > 0
        assert after["failing"] == after["degraded"] == []
        assert f'ucap_relay_backlog{{service="{service}"}} 0.0' in drained
