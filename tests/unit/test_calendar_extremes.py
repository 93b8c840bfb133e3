"""Dates at both ends of the calendar: every derivation is total, or the input is refused."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, ValidationError

from ucap_pilots.domain import MilestoneState
from ucap_reporting.status import mou_out, pilot_out, updated_within
from ucap_shared.dates import PartialDate, days_after, utc_moment

EXTREMES = ["0001", "0001-01", "0001-01-01", "9999", "9999-12", "9999-12-31"]
FIRST, LAST = date.min, date.max


class Dated(BaseModel):
    when: PartialDate


class TestPartialDatesAtTheEnds:
    @pytest.mark.parametrize("text", EXTREMES)
    def test_parse_and_span_their_days(self, text: str) -> None:
        day = Dated(when=text).when  # type: ignore[arg-type]
        assert day.iso() == text
        assert FIRST <= day.first_day <= day.last_day <= LAST

    @pytest.mark.parametrize("text", ["0000", "0000-12", "0000-12-31", "10000", "9999-13"])
    def test_a_year_outside_the_calendar_is_refused(self, text: str) -> None:
        with pytest.raises(ValidationError):
            Dated(when=text)  # type: ignore[arg-type]


class TestDaysAfter:
    def test_moves_like_timedelta_inside_the_calendar(self) -> None:
        assert days_after(date(2020, 2, 28), 2) == date(2020, 3, 1)
        assert days_after(date(2020, 3, 1), -2) == date(2020, 2, 28)

    def test_holds_at_the_calendar_ends(self) -> None:
        with pytest.raises(OverflowError):
            _ = LAST + timedelta(days=90)
        assert days_after(LAST, 90) == LAST
        assert days_after(FIRST, -90) == FIRST
        assert days_after(date(9999, 12, 1), 90) == LAST


class TestUtcMoment:
    def test_a_naive_moment_is_utc(self) -> None:
        assert utc_moment(datetime(1, 1, 1)) == datetime(1, 1, 1, tzinfo=UTC)

    @pytest.mark.parametrize(
        "moment",
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
            datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
        ],
    )
    def test_a_moment_outside_the_calendar_in_utc_is_a_value_error(self, moment: datetime) -> None:
        with pytest.raises(ValueError, match="outside the calendar"):
            utc_moment(moment)


def _mou(
    valid_until: str | None,
    signed_on: tuple[str, str] = ("0001-01-01", "0001-01-01"),
    valid_from: str | None = "0001",
) -> dict[str, object]:
    return {
        "mou_id": "m",
        "title": "M",
        "party_city_ids": ["a", "b"],
        "signatures": [
            {"city_id": "a", "signed_on": signed_on[0]},
            {"city_id": "b", "signed_on": signed_on[1]},
        ],
        "valid_from": valid_from,
        "valid_until": valid_until,
        "terminated_on": None,
        "expired_on": None,
    }


def _pilot(planned: list[str], reported_on: str | None) -> dict[str, object]:
    update = (
        None
        if reported_on is None
        else {
            "update_id": "u",
            "reported_on": reported_on,
            "reporting_city_id": "a",
            "summary": "s",
        }
    )
    return {
        "pilot_id": "a-p",
        "title": "P",
        "lead_city_id": "a",
        "city_ids": ["a"],
        "cluster": None,
        "themes": [],
        "sdg_goals": [],
        "status": "in_progress",
        "status_on": "0001",
        "last_update": update,
        "updates_count": 0 if update is None else 1,
        "milestones": [
            {"milestone_id": f"m{n}", "title": "M", "planned_on": p, "completed_on": None}
            for n, p in enumerate(planned)
        ],
        "funding": [],
    }


class TestStatusOnTheCalendarsEnds:
    @pytest.mark.parametrize("today", [FIRST, LAST])
    @pytest.mark.parametrize("valid_until", ["0001", "9999-12-31", "9999-12", None])
    def test_a_mou_status_is_total(self, today: date, valid_until: str | None) -> None:
        out = mou_out(_mou(valid_until), today)
        assert out.expires_soon is (
            today == LAST and valid_until is not None and valid_until.startswith("9999")
        )

    def test_a_mou_signed_in_a_year_and_a_month_of_it_is_signed_in_that_year(self) -> None:
        out = mou_out(_mou(None, ("2018", "2018-03"), valid_from=None), date(2018, 2, 28))
        assert (out.signed_on, out.status) == (PartialDate.parse("2018"), "signed")
        assert (
            mou_out(_mou(None, ("2018", "2018-03"), valid_from=None), date(2018, 3, 1)).status
            == "in_force"
        )

    @pytest.mark.parametrize("today", [FIRST, LAST])
    @pytest.mark.parametrize("reported_on", ["0001", "0001-01-01", "9999-12-31", None])
    def test_a_pilot_status_is_total(self, today: date, reported_on: str | None) -> None:
        out = pilot_out(_pilot(EXTREMES, reported_on), today)
        assert updated_within(out, today) is (not out.stale)
        overdue = {m.planned_on.iso() for m in out.milestones if m.state == "overdue"}
        assert overdue == (set() if today == FIRST else {e for e in EXTREMES if e < "9999"})


class TestOverdueInThePilotsDomain:
    @pytest.mark.parametrize("planned", EXTREMES)
    @pytest.mark.parametrize("today", [FIRST, LAST])
    def test_overdue_is_total(self, planned: str, today: date) -> None:
        milestone = MilestoneState(
            milestone_id="m", title="M", planned_on=PartialDate.parse(planned)
        )
        assert milestone.overdue_on(today) is (today == LAST and not planned.startswith("9999"))
