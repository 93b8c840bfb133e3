"""Progress updates whose writer fails between the append and the projection, or races.

After such a failure the event is in the store but not in ``pilots_view``. The
failure is injected on the module's in-process app: its runtime's
``project_own`` raises once, right after the append. Meanwhile the relay is held
(the failed writer's process would not have published either), so what fills
the view is the service's own next command, not its consumer; the consumer is
let go afterwards, to show that applying everything again changes nothing.

Partner cities also report concurrently by design: every update they are told
was recorded must be in this service's view, and in reporting's, exactly once.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.services.pilots.conftest import PilotsService
from tests.services.reporting.conftest import ReportingService, start_reporting
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.waiting import eventually
from ucap_ops.kafka_admin import committed_offsets, offset_range, topic_reader
from ucap_pilots.domain import update_id_for
from ucap_pilots.views import PILOTS_VIEW
from ucap_reporting.projections import PILOT_INDEX_VIEW
from ucap_shared.envelope import Envelope
from ucap_shared.relay import Relay
from ucap_shared.topic_reading import partitions_of
from ucap_shared.views import APPLIED

PROGRESS_REPORTED = "ucap.pilot.progress_reported.v1"


class InjectedCrashError(RuntimeError):
    """The writer's failure, right after its append."""


@dataclass
class CrashAfterAppend:
    """Stands in for ``runtime.project_own``: fails once, for the pilot's first progress event."""

    pilot_id: str
    project_own: Callable[[Sequence[Envelope]], Awaitable[None]]
    crashes: int = 0

    async def __call__(self, envelopes: Sequence[Envelope]) -> None:
        if self.crashes == 0 and any(
            e.subject == self.pilot_id and e.type == PROGRESS_REPORTED for e in envelopes
        ):
            self.crashes += 1
            raise InjectedCrashError(f"died after appending to {self.pilot_id}")
        await self.project_own(envelopes)


@dataclass
class HeldRelay:
    """Stands in for ``relay.publish_pending``: publishes nothing until released."""

    publish_pending: Callable[[], Awaitable[int]]
    held: bool = True

    async def __call__(self) -> int:
        return 0 if self.held else await self.publish_pending()


def relay_of(pilots: PilotsService) -> Relay:
    relay = pilots.runtime.relay
    assert relay is not None
    return relay


@pytest.fixture
def crash(pilots: PilotsService, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Arm the crash for one pilot, with the relay held until the test ends."""

    def arm(pilot_id: str) -> None:
        runtime, relay = pilots.runtime, relay_of(pilots)
        monkeypatch.setattr(runtime, "project_own", CrashAfterAppend(pilot_id, runtime.project_own))
        monkeypatch.setattr(relay, "publish_pending", HeldRelay(relay.publish_pending))

    return arm


def release_relay(pilots: PilotsService) -> None:
    gate = relay_of(pilots).publish_pending
    assert isinstance(gate, HeldRelay)
    gate.held = False


@pytest.fixture
async def unguarded(pilots: PilotsService) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees the app's failure as the 500 a real client gets."""
    transport = httpx.ASGITransport(app=pilots.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://pilots", timeout=30, headers=bearer("pilots")
    ) as client:
        yield client


def progress(city: str, summary: str = "Webinar held") -> dict[str, Any]:
    return {"reported_on": "2020-07", "reporting_city_id": city, "summary": summary}


async def report(
    client: httpx.AsyncClient, pilot_id: str, key: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/pilots/{pilot_id}/progress", json=body, headers={"Idempotency-Key": key}
    )


async def update_ids(pilots: PilotsService, pilot_id: str) -> list[str]:
    response = await pilots.client.get(f"/pilots/{pilot_id}")
    assert response.status_code == 200, response.text
    return [update["update_id"] for update in response.json()["updates"]]


async def view_version(pilots: PilotsService, pilot_id: str) -> int:
    document = await pilots.runtime.database[PILOTS_VIEW].find_one({"_id": pilot_id})
    assert document is not None
    return int(document[APPLIED][pilot_id])


async def consumer_caught_up(pilots: PilotsService) -> bool:
    """Everything is published, and the service's consumer has committed past every record
    of its own topic: it applied (or skipped) every event of the pilot."""
    runtime = pilots.runtime
    if await runtime.store.backlog() > 0:
        return False
    bootstrap = runtime.settings.kafka_bootstrap_servers
    partitions = (await partitions_of(bootstrap, [runtime.own_topic]))[runtime.own_topic]
    async with topic_reader(bootstrap) as reader:
        ranges = await offset_range(reader, partitions)
    committed = await committed_offsets(bootstrap, runtime.settings.group)
    return all(committed.get(tp, start) >= end for tp, (start, end) in ranges.items())


class TestARetryAfterTheCrash:
    async def test_is_answered_as_a_replay_and_the_update_is_in_the_view(
        self,
        pilots: PilotsService,
        cities: list[str],
        crash: Callable[[str], None],
        unguarded: httpx.AsyncClient,
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        crash(pilot_id)
        version = await pilots.version(pilot_id)

        failed = await report(unguarded, pilot_id, "crash-a", progress(cities[1]))

        assert failed.status_code == 500
        assert await pilots.version(pilot_id) == version + 1, "appended before the crash"
        assert await update_ids(pilots, pilot_id) == [], "not projected"

        retried = await report(pilots.client, pilot_id, "crash-a", progress(cities[1]))

        assert retried.status_code == 201, retried.text
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert retried.json()["update"]["update_id"] == update_id_for("crash-a")
        assert await update_ids(pilots, pilot_id) == [update_id_for("crash-a")]
        assert await view_version(pilots, pilot_id) == version + 1


class TestTheNextUpdateAfterTheCrash:
    async def test_both_updates_end_in_the_view_exactly_once_also_after_the_consumer(
        self,
        pilots: PilotsService,
        cities: list[str],
        crash: Callable[[str], None],
        unguarded: httpx.AsyncClient,
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        crash(pilot_id)
        failed = await report(unguarded, pilot_id, "crash-b1", progress(cities[1], "First"))
        assert failed.status_code == 500

        following = await report(pilots.client, pilot_id, "crash-b2", progress(cities[1], "Next"))

        assert following.status_code == 201, following.text
        assert following.headers["Idempotent-Replayed"] == "false"
        both = [update_id_for("crash-b1"), update_id_for("crash-b2")]
        assert await update_ids(pilots, pilot_id) == both
        assert await view_version(pilots, pilot_id) == await pilots.version(pilot_id)

        release_relay(pilots)
        await eventually(lambda: consumer_caught_up(pilots), timeout=60, interval=0.2)

        assert await update_ids(pilots, pilot_id) == both
        assert await view_version(pilots, pilot_id) == await pilots.version(pilot_id)


@pytest.fixture
async def reporting(infra: Infra, pilots: PilotsService) -> AsyncIterator[ReportingService]:
    """The reporting service, reading this module's pilots topic (``pilots`` set its namespace)."""
    async for service in start_reporting(infra, "pilot-writers"):
        yield service


async def reporting_pilot(reporting: ReportingService, pilot_id: str) -> dict[str, Any] | None:
    database = reporting.mongo[reporting.settings.database]
    document: dict[str, Any] | None = await database[PILOT_INDEX_VIEW].find_one({"_id": pilot_id})
    return document


class TestConcurrentReporters:
    CITIES = 4
    UPDATES_EACH = 5

    async def test_every_acknowledged_update_is_in_the_views_exactly_once(
        self, pilots: PilotsService, cities: list[str], reporting: ReportingService
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], cities[1 : self.CITIES])

        async def reporter(city: str) -> list[httpx.Response]:
            return [
                await report(pilots.client, pilot_id, f"{city}-{n}", progress(city, f"#{n}"))
                for n in range(self.UPDATES_EACH)
            ]

        answers = await asyncio.gather(*(reporter(city) for city in cities[: self.CITIES]))

        responses = [response for city in answers for response in city]
        assert [r.status_code for r in responses] == [201] * len(responses)
        acknowledged = {r.json()["update"]["update_id"] for r in responses}
        assert len(acknowledged) == self.CITIES * self.UPDATES_EACH
        in_view = await update_ids(pilots, pilot_id)
        assert Counter(in_view) == Counter(acknowledged)
        version = await pilots.version(pilot_id)
        assert await view_version(pilots, pilot_id) == version

        await eventually(lambda: consumer_caught_up(pilots), timeout=60, interval=0.2)
        assert Counter(await update_ids(pilots, pilot_id)) == Counter(acknowledged)

        async def reporting_caught_up() -> dict[str, Any] | None:
            document = await reporting_pilot(reporting, pilot_id)
            return document if document is not None and document["seq"] == version else None

        counted = await eventually(reporting_caught_up, timeout=60, interval=0.2)
        assert counted["updates_count"] == len(acknowledged)
