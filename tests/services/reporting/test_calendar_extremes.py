"""Dates at both ends of the calendar (years 1 and 9999) in every date field of a U-CAP
and of the copies its status holds, and as ``as_of``: never a server error."""

from datetime import UTC, datetime

import pytest

from tests.services.reporting.conftest import ReportingService, fresh
from ucap_shared.app import OCCURRED_AT_HEADER
from ucap_shared.envelope import Envelope

YEAR_ONE = datetime(1, 1, 1, 12, tzinfo=UTC)


def in_year_one(envelope: Envelope) -> Envelope:
    return envelope.model_copy(update={"time": YEAR_ONE})


async def ucap_at_both_ends(reporting: ReportingService) -> tuple[str, str]:
    """A U-CAP recorded in year 1, its period from year 1 to 9999, with a MoU in force until
    9999-12-31 and a pilot with milestones and updates at both ends, all recorded in year 1."""
    s = reporting.streams
    lead, counterpart = fresh("granada"), fresh("kunming")
    await reporting.register(lead, counterpart)
    ucap_id, mou, pilot = fresh("ucap"), fresh("mou"), fresh("pilot")
    created = await reporting.client.post(
        "/ucaps",
        json={
            "id": ucap_id,
            "title": "From year one",
            "lead_city_id": lead,
            "counterpart_city_ids": [counterpart],
            "period": {"from": "0001", "until": "9999-12-31"},
            "deliverables": [{"title": "First", "date": "0001-01", "kind": "report"}],
        },
        headers={OCCURRED_AT_HEADER: "0001-01-01"},
    )
    assert created.status_code == 201, created.text
    for activity_id, on in (("first", "0001-01"), ("last", "9999-12-31")):
        logged = await reporting.client.post(
            f"/ucaps/{ucap_id}/activities",
            json={"activity_id": activity_id, "date": on, "kind": "meeting", "title": on},
            headers={OCCURRED_AT_HEADER: "0001-01-01"},
        )
        assert logged.status_code == 201, logged.text
    delivered = await reporting.client.post(
        f"/ucaps/{ucap_id}/deliver", json={"status": "delivered", "delivered_on": "9999-12-31"}
    )
    assert delivered.status_code == 200, delivered.text
    events = [
        s.mou_drafted(mou, [lead, counterpart], valid_until="9999-12-31"),
        s.mou_signed(mou, lead, "0001-01-01"),
        s.mou_signed(mou, counterpart, "0001"),
        s.pilot_proposed(pilot, ucap_id, lead, [counterpart]),
        s.pilot_status(pilot, "approved", "approved", "0001-01"),
        s.pilot_status(pilot, "started", "in_progress", "9999-12-31"),
        *(s.milestone_added(pilot, f"m{n}", on) for n, on in enumerate(EXTREMES)),
        s.pilot_progress(pilot, "u1", "0001-01-01", lead, "first"),
        s.pilot_progress(pilot, "u2", "9999-12", counterpart, "last"),
    ]
    await reporting.publish(*(in_year_one(envelope) for envelope in events))
    # The MoU's events come on another topic than the pilot's: wait for both.
    await reporting.wait_status(
        ucap_id,
        lambda b: (
            b["applied"].get(f"pilot:{pilot}") == 2 + len(EXTREMES) + 3
            and b["applied"].get(f"mou:{mou}") == 3
        ),
    )
    return ucap_id, pilot


EXTREMES = ["0001", "0001-01", "0001-01-01", "9999", "9999-12", "9999-12-31"]


@pytest.fixture(scope="module")
async def extreme(reporting: ReportingService) -> tuple[str, str]:
    return await ucap_at_both_ends(reporting)


class TestTheStatusAtTheCalendarsEnds:
    async def test_the_live_status_reads(
        self, reporting: ReportingService, extreme: tuple[str, str]
    ) -> None:
        body = await reporting.status(extreme[0])
        (pilot,) = body["counterparts"][0]["pilots"]
        assert pilot["milestone_counts"] == {"done": 0, "due": 3, "overdue": 3}
        assert body["counterparts"][0]["mous"][0]["status"] == "in_force"

    @pytest.mark.parametrize("day", ["9999-12-31", "9999-12-30", "9999-10-05"])
    async def test_as_of_the_last_days_of_the_calendar(
        self, reporting: ReportingService, extreme: tuple[str, str], day: str
    ) -> None:
        body = await reporting.status(extreme[0], as_of=day)
        assert body["on"] == day
        (mou,) = body["counterparts"][0]["mous"]
        assert mou["expires_soon"] is True
        assert len(body["flags"]["overdue_milestones"]) == 3  # those of year 1

    @pytest.mark.parametrize(("day", "overdue"), [("0001-01-01", 0), ("0001-03-01", 2)])
    async def test_as_of_the_first_days_of_the_calendar(
        self, reporting: ReportingService, extreme: tuple[str, str], day: str, overdue: int
    ) -> None:
        body = await reporting.status(extreme[0], as_of=day)
        assert body["on"] == day
        (pilot,) = body["counterparts"][0]["pilots"]
        assert pilot["stale"] is False
        assert len(body["flags"]["overdue_milestones"]) == overdue

    @pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
    async def test_the_ucap_as_of_either_end(
        self, reporting: ReportingService, extreme: tuple[str, str], day: str
    ) -> None:
        response = await reporting.client.get(f"/ucaps/{extreme[0]}", params={"as_of": day})
        assert response.status_code == 200, response.text
        assert response.json()["period"] == {"from": "0001", "until": "9999-12-31"}

    async def test_the_programme_reads(self, reporting: ReportingService) -> None:
        response = await reporting.client.get("/programme/status")
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize("day", ["0000-12-31", "10000-01-01", "9999-12-32"])
    async def test_a_day_outside_the_calendar_is_422(
        self, reporting: ReportingService, extreme: tuple[str, str], day: str
    ) -> None:
        response = await reporting.client.get(f"/ucaps/{extreme[0]}/status", params={"as_of": day})
        assert response.status_code == 422, response.text
