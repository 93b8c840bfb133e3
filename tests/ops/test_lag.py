"""``ucap lag`` against the whole system: a stopped service falls behind, then catches up."""

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.event_services import city, clean_up
from tests.support.infra import Infra
from tests.support.processes import run_service
from tests.support.stack import SERVICES, Stack, running_stack
from tests.support.ucap_command import ucap
from tests.support.waiting import eventually
from ucap_shared.mongo import connect_mongo

Groups = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
async def system(
    infra: Infra, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    log_dir: Path = tmp_path_factory.mktemp("lag-logs")
    with running_stack(service_env, log_dir) as running:
        yield running
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        await clean_up(running.env, mongo)
    finally:
        await mongo.close()


async def lag(stack: Stack, *args: str) -> Groups:
    """``ucap lag --json``, by service."""
    result = await asyncio.to_thread(functools.partial(ucap, env=stack.env), "lag", "--json", *args)
    assert result.returncode == 0, result.stderr
    return {group["service"]: group for group in json.loads(result.stdout)}


def topic_of(group: dict[str, Any], topic: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in group["topics"] if t["topic"] == topic)
    return found


def register(stack: Stack, city_id: str) -> None:
    response = httpx.post(
        f"{stack.url}/cities",
        json=city(city_id, city_id.title()),
        headers=stack.headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text


class TestLag:
    async def test_shows_every_group_caught_up_with_its_last_event_time(
        self, system: Stack
    ) -> None:
        register(system, "haikou")
        cities_topic = f"{system.env['UCAP_TOPIC_NAMESPACE']}.cities.events"

        async def all_caught_up() -> Groups | None:
            groups = await lag(system)
            fresh = all(
                group["members"] >= 1
                and group["lag"] == 0
                and topic_of(group, cities_topic)["last_event_time"] is not None
                for group in groups.values()
            )
            return groups if fresh else None

        groups = await eventually(all_caught_up, timeout=90, interval=0.5)

        assert set(groups) == set(SERVICES)
        for service, group in groups.items():
            assert group["group"] == system.env[f"UCAP_{service.upper()}_CONSUMER_GROUP"]
            assert group["state"] == "Stable"
        assert [t["topic"] for t in groups["mous"]["topics"]] == [
            cities_topic,
            f"{system.env['UCAP_TOPIC_NAMESPACE']}.mous.events",
        ]
        assert len(groups["reporting"]["topics"]) == 4

    async def test_a_stopped_service_falls_behind_and_catches_up_when_back(
        self, system: Stack
    ) -> None:
        cities_topic = f"{system.env['UCAP_TOPIC_NAMESPACE']}.cities.events"
        mous = system.services["mous"]
        mous.process.terminate()
        mous.process.wait(timeout=30)
        register(system, "liuzhou")

        async def mous_behind() -> Groups | None:
            groups = await lag(system, "--service", "mous")
            return groups if topic_of(groups["mous"], cities_topic)["lag"] > 0 else None

        behind = (await eventually(mous_behind, timeout=60, interval=0.5))["mous"]
        assert behind["members"] == 0
        # One event, published in one transaction: its record and the commit marker.
        assert topic_of(behind, cities_topic)["lag"] == 2
        before = topic_of(behind, cities_topic)["last_event_time"]

        with run_service("mous", mous.env, system.log_dir):

            async def mous_caught_up() -> Groups | None:
                groups = await lag(system, "--service", "mous")
                return groups if groups["mous"]["lag"] == 0 else None

            back = (await eventually(mous_caught_up, timeout=90, interval=0.5))["mous"]

        after = topic_of(back, cities_topic)["last_event_time"]
        assert after is not None
        assert before is None or datetime.fromisoformat(after) > datetime.fromisoformat(before)
