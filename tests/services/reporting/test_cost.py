"""Applying one progress event writes a bounded number of documents, however many U-CAPs.

Writes are counted in the real database: every view write records, per
document, the last sequence applied of each stream (``_applied``). The
documents whose record for the pilot's stream changed are exactly those the
event wrote.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.services.reporting.conftest import ReportingService, fresh, start_reporting
from tests.support.infra import Infra
from ucap_reporting.projections import VIEWS
from ucap_shared.views import APPLIED, PACKED, unpacked

Snapshot = dict[tuple[str, str], int]


@pytest.fixture(scope="module")
async def reporting(infra: Infra) -> AsyncIterator[ReportingService]:
    async for service in start_reporting(infra, "cost", own_topic=True):
        yield service


async def applied_for(reporting: ReportingService, stream: str) -> Snapshot:
    """Per view document: the last sequence of ``stream`` it applied (packed or not)."""
    database = reporting.mongo[reporting.settings.database]
    found: Snapshot = {}
    for view in VIEWS:
        async for stored in database[view].find({}, {APPLIED: 1, PACKED: 1}):
            document = unpacked(stored, database.codec_options) or {}
            if stream in document.get(APPLIED, {}):
                found[(view, document["_id"])] = document[APPLIED][stream]
    return found


async def writes_of_one_progress_event(
    reporting: ReportingService, ucap_id: str, pilot: str, city: str
) -> int:
    before = await applied_for(reporting, f"pilot:{pilot}")
    update_id = fresh("update")
    await reporting.publish(
        reporting.streams.pilot_progress(pilot, update_id, "2020-06", city, update_id)
    )
    await reporting.wait_status(
        ucap_id,
        lambda b: any(
            p["last_update"] and p["last_update"]["update_id"] == update_id
            for c in b["counterparts"]
            for p in c["pilots"]
        ),
    )
    after = await applied_for(reporting, f"pilot:{pilot}")
    return sum(1 for key, sequence in after.items() if before.get(key) != sequence)


class TestCostOfOneEvent:
    async def test_one_progress_event_writes_the_same_few_documents_at_1_and_100_ucaps(
        self, reporting: ReportingService
    ) -> None:
        s = reporting.streams
        lead, counterpart = fresh("granada"), fresh("kunming")
        await reporting.publish(
            s.city_registered(lead, "Granada", "ES"), s.city_registered(counterpart, "Kunming")
        )
        first = fresh("ucap")
        await reporting.create(first, lead, [counterpart])
        pilot = fresh("pilot")
        await reporting.publish(s.pilot_proposed(pilot, first, lead, [counterpart]))
        await reporting.wait_status(first, lambda b: b["figures"]["pilots"] == 1)

        at_one = await writes_of_one_progress_event(reporting, first, pilot, counterpart)

        # 99 more U-CAPs of the same two cities, each with a pilot of its own.
        others = [fresh("ucap") for _ in range(99)]
        for chunk in range(0, len(others), 10):
            await asyncio.gather(
                *(
                    reporting.create(other, lead, [counterpart])
                    for other in others[chunk : chunk + 10]
                )
            )
        await reporting.publish(
            *(s.pilot_proposed(fresh("pilot"), other, lead, [counterpart]) for other in others)
        )
        listed = await reporting.client.get("/ucaps", params={"city": lead, "limit": 200})
        assert len(listed.json()["items"]) == 100

        at_hundred = await writes_of_one_progress_event(reporting, first, pilot, counterpart)

        # The pilot's own document and its U-CAP's status document; nothing else.
        assert at_one == 2
        assert at_hundred == at_one
