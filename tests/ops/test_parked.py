"""``ucap parked`` against a real service: a commit its relay parked, listed, fixed, retried.

The situation: the MoUs service's event store holds a commit whose event is over
Kafka's record limit (written before any bound on events, say), and one more
commit of the same MoU after it. Its relay parks the first after its tries; the
second waits behind it; readiness says ``degraded`` (still 200) and the gauge
counts it. An operator lists it, shortens the event, and retries it: the relay
publishes both, in order. The events are of a type the MoUs service's own
consumer does not read, so only the relay is involved.
"""

import asyncio
import functools
import json
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.collection import AsyncCollection

from tests.ops.event_services import clean_up, fresh_env
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.kafka_reading import read_topic
from tests.support.processes import RunningService, run_service
from tests.support.ucap_command import ucap
from tests.support.waiting import eventually
from ucap_shared.envelope import Envelope
from ucap_shared.kafka import MAX_RECORD_BYTES
from ucap_shared.mongo import connect_mongo

MOU = "mou-far-too-long"
NOTED = "ucap.mou.noted_for_test.v1"
Document = dict[str, Any]


def event(sequence: int, padding: int) -> Document:
    envelope = Envelope(
        source="ucap/mous",
        type=NOTED,
        subject=MOU,
        sequence=sequence,
        data={"note": "x" * padding},
        actor="test",
    )
    document = envelope.model_dump(mode="json")
    document["time"] = datetime.now(UTC).replace(microsecond=0)
    return document


def commit(sequence: int, padding: int) -> Document:
    return {
        "_id": f"{MOU}@{sequence}",
        "aggregate_id": MOU,
        "sequence": sequence,
        "last_sequence": sequence,
        "published": False,
        "events": [event(sequence, padding)],
    }


async def run_ucap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command in a thread, so the test's own clients keep running meanwhile."""
    return await asyncio.to_thread(functools.partial(ucap, env=env), *args)


async def listing(env: dict[str, str]) -> list[dict[str, Any]]:
    result = await run_ucap(env, "parked", "list", "--service", "mous", "--json")
    assert result.returncode == 0, result.stderr
    parked: list[dict[str, Any]] = json.loads(result.stdout)
    return parked


async def readiness(mous: RunningService) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=mous.url) as client:
        answer = await client.get("/health/ready")
    return answer.status_code, answer.json()


async def parked_gauge(mous: RunningService) -> float | None:
    async with httpx.AsyncClient(base_url=mous.url, headers=bearer("mous")) as client:
        text = (await client.get("/metrics")).text
    found = re.search(r'^ucap_relay_parked_commits\{service="ucap/mous"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else None


async def published(events: AsyncCollection[Document], sequence: int) -> bool:
    found = await events.find_one({"_id": f"{MOU}@{sequence}"})
    return found is not None and found["published"] is True


@dataclass
class Scene:
    env: dict[str, str]
    mous: RunningService
    events: AsyncCollection[Document]
    listed: list[dict[str, Any]]
    listed_as_table: str
    ready_status: int
    ready: dict[str, Any]
    gauge: float | None

    @property
    def parked_commits(self) -> AsyncCollection[Document]:
        return self.events.database["parked_commits"]

    @property
    def topic(self) -> str:
        return f"{self.env['UCAP_TOPIC_NAMESPACE']}.mous.events"


@pytest.fixture(scope="module")
async def scene(
    infra: Infra, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scene]:
    env = fresh_env(service_env)
    log_dir: Path = tmp_path_factory.mktemp("parked-logs")
    mongo = connect_mongo(infra.mongodb_uri)
    events = mongo[env["UCAP_MOUS_DATABASE"]]["events"]
    try:
        with run_service("mous", env, log_dir) as mous:
            await events.insert_many([commit(1, MAX_RECORD_BYTES + 1), commit(2, 10)])

            async def parked() -> bool:
                found = await events.find_one({"_id": f"{MOU}@1"})
                return found is not None and found["published"] == "parked"

            await eventually(parked, timeout=60, interval=0.25)
            ready_status, ready = await eventually(
                lambda: _degraded(mous), timeout=30, interval=0.25
            )
            listed = await listing(env)
            as_table = await run_ucap(env, "parked", "list")
            assert as_table.returncode == 0, as_table.stderr
            yield Scene(
                env,
                mous,
                events,
                listed,
                as_table.stdout,
                ready_status,
                ready,
                await parked_gauge(mous),
            )
    finally:
        await clean_up(env, mongo)
        await mongo.close()


async def _degraded(mous: RunningService) -> tuple[int, dict[str, Any]] | None:
    status, body = await readiness(mous)
    return (status, body) if body["status"] == "degraded" else None


class TestAParkedCommit:
    def test_is_listed_with_its_error_and_tries(self, scene: Scene) -> None:
        [parked] = scene.listed

        assert parked["id"] == f"mous:{MOU}@1"
        assert (parked["aggregate_id"], parked["sequence"]) == (MOU, 1)
        assert "MessageSizeTooLargeError" in parked["error"]
        assert parked["tries"] == 5
        assert parked["parked_at"]
        assert f"mous:{MOU}@1" in scene.listed_as_table
        assert "MessageSizeTooLargeError" in scene.listed_as_table

    def test_makes_readiness_degraded_but_still_200_and_is_counted(self, scene: Scene) -> None:
        assert scene.ready_status == 200
        assert scene.ready["failing"] == []
        assert scene.ready["degraded"] == ["relay"]
        assert scene.ready["details"]["relay"]["parked_commits"] == 1
        assert scene.ready["details"]["relay"]["first_parked"]["commit_id"] == f"{MOU}@1"
        assert scene.gauge == 1

    async def test_holds_its_aggregate_back(self, scene: Scene) -> None:
        assert not await published(scene.events, 2)


class TestRetryRefuses:
    async def test_a_commit_that_is_not_parked(self, scene: Scene) -> None:
        result = await run_ucap(scene.env, "parked", "retry", f"mous:{MOU}@2")

        assert result.returncode == 1
        assert f"mous:{MOU}@2 is not parked" in result.stderr
        assert "Traceback" not in result.stderr

    async def test_something_that_is_no_id(self, scene: Scene) -> None:
        result = await run_ucap(scene.env, "parked", "retry", "nonsense")

        assert result.returncode == 1
        assert "is not a parked commit's id" in result.stderr
        assert "Traceback" not in result.stderr

    async def test_neither_an_id_nor_all(self, scene: Scene) -> None:
        result = await run_ucap(scene.env, "parked", "retry")

        assert result.returncode == 1
        assert "give one parked commit's id or --all" in result.stderr


@pytest.fixture(scope="module")
async def retried(scene: Scene) -> dict[str, Any]:
    """The event shortened and the commit retried: the command's answer and what followed."""
    await scene.events.update_one({"_id": f"{MOU}@1"}, {"$set": {"events": [event(1, 10)]}})

    result = await run_ucap(scene.env, "parked", "retry", f"mous:{MOU}@1", "--by", "ops:test")

    assert result.returncode == 0, result.stderr
    await eventually(lambda: published(scene.events, 2), timeout=60, interval=0.25)
    ready_status, ready = await eventually(lambda: _ready(scene.mous), timeout=30)
    return {
        "output": result.stdout,
        "commit": await scene.events.find_one({"_id": f"{MOU}@1"}),
        "record": await scene.parked_commits.find_one({"_id": f"{MOU}@1"}),
        "ready": (ready_status, ready["status"]),
        "listed": await listing(scene.env),
        "records": await read_topic(scene.env["KAFKA_BOOTSTRAP_SERVERS"], scene.topic),
    }


async def _ready(mous: RunningService) -> tuple[int, dict[str, Any]] | None:
    status, body = await readiness(mous)
    return (status, body) if body["status"] == "ready" else None


class TestRetryingAfterTheFix:
    def test_publishes_it_and_the_commit_behind_it_in_order(self, retried: dict[str, Any]) -> None:
        assert f"retried mous:{MOU}@1" in retried["output"]
        sequences = [
            Envelope.from_json(record.value or b"").sequence
            for record in retried["records"]
            if record.key == MOU.encode()
        ]
        assert sequences == [1, 2]

    def test_records_who_retried_and_leaves_nothing_parked(self, retried: dict[str, Any]) -> None:
        record = retried["record"]

        assert (record["state"], record["retried_by"]) == ("retried", "ops:test")
        assert "MessageSizeTooLargeError" in record["error"]
        assert retried["commit"]["published"] is True
        assert retried["listed"] == []
        assert retried["ready"] == (200, "ready")

    async def test_retry_all_finds_nothing_more(
        self, retried: dict[str, Any], scene: Scene
    ) -> None:
        result = await run_ucap(scene.env, "parked", "retry", "--all", "--json")

        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"retried": [], "not_parked": []}
