"""``ucap webhooks`` against a running reporting service: a delivery its worker
dead-lettered after its last try, listed, and redelivered once the receiver is fixed."""

import asyncio
import functools
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.services.reporting.conftest import ReportingService, fresh, start_reporting
from tests.support.auth import bearer, city_publisher
from tests.support.infra import Infra
from tests.support.receiver import Receiver, running_receiver, signature_holds
from tests.support.ucap_command import ucap
from tests.support.waiting import eventually

TRIES = 2
DEADLINE = 30


@pytest.fixture(scope="module")
async def reporting(infra: Infra) -> AsyncIterator[ReportingService]:
    overrides = {
        "webhook_poll_seconds": 0.1,
        "webhook_first_retry_seconds": 0.2,
        "webhook_max_retry_seconds": 0.5,
        "webhook_max_attempts": TRIES,
    }
    async for service in start_reporting(infra, "ops-webhooks", overrides=overrides):
        yield service


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def env(service_env: dict[str, str], reporting: ReportingService) -> dict[str, str]:
    return {**service_env, "UCAP_REPORTING_DATABASE": reporting.settings.database}


async def run_ucap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command in a thread, so the service in this process keeps running meanwhile."""
    return await asyncio.to_thread(functools.partial(ucap, env=env), *args)


async def listing(env: dict[str, str], *options: str) -> list[dict[str, Any]]:
    result = await run_ucap(env, "webhooks", "list", *options, "--json")
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


async def a_dead_delivery(
    reporting: ReportingService, receiver: Receiver, env: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A subscription whose receiver fails every try, and its dead-lettered delivery."""
    ucap_id, lead, counterpart = fresh("ucap"), fresh("lead"), fresh("counterpart")
    await reporting.create(ucap_id, lead, [counterpart])
    response = await reporting.client.post(
        "/webhooks",
        json={"url": receiver.url, "ucap_ids": [ucap_id], "kinds": ["status_changed"]},
        headers=bearer("reporting", city_publisher(lead)),
    )
    assert response.status_code == 201, response.text
    subscription: dict[str, Any] = response.json()
    receiver.fail_next(TRIES, status=503)
    pilot = fresh("pilot")
    await reporting.publish(reporting.streams.pilot_proposed(pilot, ucap_id, lead, [counterpart]))

    async def dead() -> dict[str, Any] | None:
        mine = [
            d
            for d in await listing(env, "--dead")
            if d["subscription_id"] == subscription["subscription_id"]
        ]
        return mine[0] if mine else None

    return subscription, await eventually(dead, timeout=DEADLINE, interval=0.5)


class TestDeadLetteredDeliveries:
    async def test_a_delivery_is_dead_after_its_last_try_and_listed(
        self, reporting: ReportingService, receiver: Receiver, env: dict[str, str]
    ) -> None:
        _, delivery = await a_dead_delivery(reporting, receiver, env)

        assert delivery["state"] == "dead"
        assert delivery["tries"] == TRIES
        assert delivery["last_status"] == 503
        assert [r.answered for r in receiver.requests()] == [503] * TRIES
        table = await run_ucap(env, "webhooks", "list", "--dead")
        assert delivery["delivery_id"] in table.stdout

    async def test_a_redelivered_delivery_reaches_the_fixed_receiver(
        self, reporting: ReportingService, receiver: Receiver, env: dict[str, str]
    ) -> None:
        subscription, delivery = await a_dead_delivery(reporting, receiver, env)

        result = await run_ucap(
            env, "webhooks", "redeliver", delivery["delivery_id"], "--by", "test"
        )

        assert result.returncode == 0, result.stderr

        async def taken() -> bool:
            return any(r.answered == 200 for r in receiver.requests())

        await eventually(taken, timeout=DEADLINE)
        last = receiver.requests()[-1]
        assert last.headers["X-UCAP-Delivery"] == delivery["delivery_id"]
        assert signature_holds(subscription["secret"], last)

        async def recorded() -> dict[str, Any] | None:
            found = [
                d
                for d in await listing(env, "--state", "delivered")
                if d["delivery_id"] == delivery["delivery_id"]
            ]
            return found[0] if found else None

        stored = await eventually(recorded, timeout=DEADLINE, interval=0.5)
        assert stored["redelivered_by"] == "test"
        assert stored["tries"] == 1

    async def test_only_a_dead_delivery_is_redelivered(
        self, reporting: ReportingService, env: dict[str, str]
    ) -> None:
        result = await run_ucap(env, "webhooks", "redeliver", "wh-none:status_changed:nothing")

        assert result.returncode == 1
        assert "is not dead-lettered" in result.stderr
