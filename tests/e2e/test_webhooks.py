"""Webhooks through the gateway: a partner city's key registers its endpoint, and the
reporting service (a process of its own) posts it a signed delivery of a pilot's
progress, published on Kafka as the pilots service publishes it."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.services.reporting.conftest import Streams, publish, start_group_at_end, ucap_body
from tests.support.infra import Infra
from tests.support.keys import auth, create_key
from tests.support.processes import RunningService, free_port, run_service
from tests.support.receiver import Receiver, running_receiver, signature_holds
from tests.support.waiting import eventually

DEADLINE = 60


@dataclass
class Gateway:
    service: RunningService
    admin: dict[str, str]
    key_of: dict[str, dict[str, str]]


LEAD, COUNTERPART, OUTSIDER = (
    f"{name}-{uuid.uuid4().hex[:8]}" for name in ("wh-lead", "wh-cp", "wh-out")
)


@pytest.fixture(scope="module")
def gateway(
    infra: Infra, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    log_dir: Path = tmp_path_factory.mktemp("webhooks-logs")
    suffix = uuid.uuid4().hex[:8]
    group = f"reporting-e2e-webhooks-{suffix}"
    asyncio.run(start_group_at_end(infra.kafka_bootstrap_servers, group))
    reporting_env = {
        **service_env,
        "UCAP_REPORTING_DATABASE": f"test_e2e_webhooks_{suffix}",
        "UCAP_REPORTING_CONSUMER_GROUP": group,
        "UCAP_REPORTING_WEBHOOK_POLL_SECONDS": "0.1",
    }
    with run_service("reporting", reporting_env, log_dir) as reporting:
        unreachable = f"http://127.0.0.1:{free_port()}"
        gateway_env = {
            **service_env,
            "UCAP_GATEWAY_DATABASE": f"test_e2e_webhooks_gw_{suffix}",
            "UCAP_GATEWAY_REPORTING_URL": reporting.url,
            "UCAP_GATEWAY_CITIES_URL": unreachable,
            "UCAP_GATEWAY_MOUS_URL": unreachable,
            "UCAP_GATEWAY_PILOTS_URL": unreachable,
        }
        admin = create_key(gateway_env, principal="ops:test", roles=["admin"])["key"]
        keys = {
            city: auth(
                create_key(gateway_env, principal=f"city:{city}", roles=["publisher"])["key"]
            )
            for city in (LEAD, OUTSIDER)
        }
        with run_service("gateway", gateway_env, log_dir) as service:
            yield Gateway(service, auth(admin), keys)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture(scope="module")
async def ucap_id(infra: Infra, gateway: Gateway) -> str:
    """A U-CAP led by LEAD, created through the gateway once reporting knows its cities."""
    streams = Streams()
    await publish(
        infra.kafka_bootstrap_servers,
        *(streams.city_registered(city, city.title()) for city in (LEAD, COUNTERPART)),
    )
    identifier = f"ucap-wh-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=gateway.service.url, headers=gateway.admin) as client:

        async def created() -> bool:
            answer = await client.post("/ucaps", json=ucap_body(identifier, LEAD, [COUNTERPART]))
            assert answer.status_code in (201, 422), answer.text
            return answer.status_code == 201

        await eventually(created, timeout=DEADLINE, interval=0.5)
    return identifier


class TestThroughTheGateway:
    async def test_a_city_key_registers_and_its_receiver_gets_a_signed_progress_update(
        self, infra: Infra, gateway: Gateway, receiver: Receiver, ucap_id: str
    ) -> None:
        async with httpx.AsyncClient(base_url=gateway.service.url) as client:
            answer = await client.post(
                "/webhooks",
                json={"url": receiver.url, "ucap_ids": [ucap_id], "kinds": ["status_changed"]},
                headers=gateway.key_of[LEAD],
            )
            assert answer.status_code == 201, answer.text
            subscription = answer.json()
            listed = await client.get("/webhooks", headers=gateway.key_of[LEAD])

        assert [s["subscription_id"] for s in listed.json()["items"]] == [
            subscription["subscription_id"]
        ]
        streams, pilot = Streams(), f"pilot-wh-{uuid.uuid4().hex[:8]}"
        await publish(
            infra.kafka_bootstrap_servers,
            streams.pilot_proposed(pilot, ucap_id, LEAD, [COUNTERPART]),
            streams.pilot_progress(pilot, "u1", "2026-12-01", LEAD, "Bikes counted"),
        )

        async def progress() -> Receiver | None:
            for request in receiver.requests():
                body = json.loads(request.body)
                if body["event"]["type"] == "ucap.pilot.progress_reported.v1":
                    assert signature_holds(subscription["secret"], request)
                    return receiver
            return None

        await eventually(progress, timeout=DEADLINE)

    async def test_a_city_with_no_part_in_the_ucap_is_refused(
        self, gateway: Gateway, receiver: Receiver, ucap_id: str
    ) -> None:
        async with httpx.AsyncClient(base_url=gateway.service.url) as client:
            answer = await client.post(
                "/webhooks",
                json={"url": receiver.url, "ucap_ids": [ucap_id], "kinds": ["status_changed"]},
                headers=gateway.key_of[OUTSIDER],
            )

        assert answer.status_code == 403
        assert answer.json()["error"] == "forbidden"
