"""A status as of a day is replayed once and kept while it stands.

On the recorded axis (``recorded_as_of``) a settled day is kept and an event recorded late
for it forgets it; on the cooperation axis (``as_of``) any newly recorded event that
concerns the U-CAP, whatever day it is about, means the kept answer is not served again."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.services.reporting.conftest import ReportingService, fresh, start_reporting, ucap_body
from tests.support.infra import Infra
from tests.support.waiting import eventually
from ucap_reporting.asof import AS_OF_VIEW
from ucap_shared.app import OCCURRED_AT_HEADER
from ucap_shared.views import packed, unpacked


@pytest.fixture(scope="module")
async def reporting(infra: Infra) -> AsyncIterator[ReportingService]:
    async for service in start_reporting(infra, "as-of-kept"):
        yield service


async def ucap_created_days_ago(reporting: ReportingService, days: int) -> tuple[str, str, str]:
    """A U-CAP recorded ``days`` ago (an admin's occurred-at), its cities registered now."""
    ucap_id, lead, counterpart = fresh("ucap"), fresh("granada"), fresh("kunming")
    await reporting.register(lead, counterpart)
    created = await reporting.client.post(
        "/ucaps",
        json=ucap_body(ucap_id, lead, [counterpart]),
        headers={OCCURRED_AT_HEADER: (datetime.now(UTC) - timedelta(days=days)).isoformat()},
    )
    assert created.status_code == 201, created.text
    return ucap_id, lead, counterpart


async def kept(reporting: ReportingService, ucap_id: str, day: date) -> dict[str, Any] | None:
    database = reporting.mongo[reporting.settings.database]
    stored = await database[AS_OF_VIEW].find_one({"_id": f"{ucap_id}|{day.isoformat()}"})
    return unpacked(stored, database.codec_options)


class TestKeptAsOf:
    async def test_a_settled_day_is_replayed_once_then_answered_from_what_is_kept(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, _, _ = await ucap_created_days_ago(reporting, 3)
        day = (datetime.now(UTC) - timedelta(days=2)).date()

        first = await reporting.status(ucap_id, recorded_as_of=day.isoformat())

        assert first["ucap"]["title"] == f"U-CAP {ucap_id}"
        stored = await kept(reporting, ucap_id, day)
        assert stored is not None
        # A copy changed where it is kept: only an answer read from there can show it.
        stored["document"]["ucap"]["title"] = "As kept"
        database = reporting.mongo[reporting.settings.database]
        await database[AS_OF_VIEW].replace_one({"_id": stored["_id"]}, packed(AS_OF_VIEW, stored))
        second = await reporting.status(ucap_id, recorded_as_of=day.isoformat())
        assert second["ucap"]["title"] == "As kept"

    async def test_an_event_recorded_late_for_a_kept_day_forgets_it(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, _, counterpart = await ucap_created_days_ago(reporting, 3)
        day = (datetime.now(UTC) - timedelta(days=2)).date()
        before = await reporting.status(ucap_id, recorded_as_of=day.isoformat())
        assert before["counterparts"][0]["city"]["registered"] is False
        assert await kept(reporting, ucap_id, day) is not None

        late = reporting.streams.city_registered(counterpart, "Kunming").model_copy(
            update={"time": datetime.now(UTC) - timedelta(days=3)}
        )
        await reporting.publish(late)

        async def forgotten() -> bool:
            return await kept(reporting, ucap_id, day) is None

        await eventually(forgotten, timeout=60, interval=0.2)
        after = await reporting.status(ucap_id, recorded_as_of=day.isoformat())
        assert after["counterparts"][0]["city"]["name"] == "Kunming"

    async def test_today_and_any_later_day_answer_the_live_status(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, _, _ = await ucap_created_days_ago(reporting, 0)
        live = await reporting.status(ucap_id)
        for day in (datetime.now(UTC).date().isoformat(), "9999-12-31"):
            then = await reporting.status(ucap_id, recorded_as_of=day)
            assert then["ucap"] == live["ucap"]
        assert await kept(reporting, ucap_id, date(9999, 12, 31)) is None


async def kept_in_cooperation_time(
    reporting: ReportingService, ucap_id: str, day: str
) -> dict[str, Any] | None:
    database = reporting.mongo[reporting.settings.database]
    stored = await database[AS_OF_VIEW].find_one({"_id": f"{ucap_id}|cooperation|{day}"})
    return unpacked(stored, database.codec_options)


class TestKeptInCooperationTime:
    async def test_a_kept_answer_is_served_until_a_fact_of_an_earlier_date_is_recorded(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, lead, counterpart = await ucap_created_days_ago(reporting, 0)
        day = "2019-12-31"
        first = await reporting.status(ucap_id, as_of=day)
        assert first["counterparts"][0]["mous"] == []
        stored = await kept_in_cooperation_time(reporting, ucap_id, day)
        assert stored is not None
        # A copy changed where it is kept: only an answer read from there can show it.
        stored["document"]["ucap"]["title"] = "As kept"
        database = reporting.mongo[reporting.settings.database]
        await database[AS_OF_VIEW].replace_one({"_id": stored["_id"]}, packed(AS_OF_VIEW, stored))
        assert (await reporting.status(ucap_id, as_of=day))["ucap"]["title"] == "As kept"

        s, mou = reporting.streams, fresh("mou")
        await reporting.publish(
            s.mou_drafted(mou, [lead, counterpart]),
            s.mou_signed(mou, lead, "2019-03"),
            s.mou_signed(mou, counterpart, "2019-04"),
        )
        await reporting.wait_status(ucap_id, lambda b: b["figures"]["mous_signed"] == 1)
        after = await reporting.status(ucap_id, as_of=day)

        assert after["ucap"]["title"] == f"U-CAP {ucap_id}"
        assert [m["status"] for m in after["counterparts"][0]["mous"]] == ["in_force"]
        again = await kept_in_cooperation_time(reporting, ucap_id, day)
        assert again is not None
        assert again["fingerprint"] != stored["fingerprint"]
