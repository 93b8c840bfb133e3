"""Cooperation time: which events count on a day, by the dates their facts carry."""

from datetime import date
from typing import Any

from tests.services.reporting.conftest import Streams
from tests.services.reporting.test_projections import ucap_created
from tests.services.reporting.test_status_fields import activity_logged
from ucap_reporting.cooperation import created_on, known_by, own_events_by
from ucap_shared.envelope import Envelope

DAY = date(2019, 12, 31)


def created_with_period(start: str | None) -> Envelope:
    created = ucap_created("u", "granada", ["kunming"])
    period: dict[str, Any] | None = {"from": start, "until": None} if start else None
    return created.model_copy(update={"data": {**created.data, "period": period}})


class TestFactDates:
    def test_each_dated_fact_counts_from_its_date_whenever_recorded(self) -> None:
        s = Streams()
        cases = [
            (s.mou_signed("m", "granada", "2019-12-31"), True),
            (s.mou_signed("m", "kunming", "2020-01"), False),
            (s.pilot_status("p", "started", "in_progress", "2019-12"), True),
            (s.pilot_status("p", "completed", "completed", "2020-01-01"), False),
            (s.pilot_progress("p", "u1", "2020-01-02", "kunming", "later"), False),
            (s.milestone_added("p", "ms", "2030-01"), True),  # planned: no fact date
        ]
        assert [known_by(e, DAY, past=True) for e, _ in cases] == [k for _, k in cases]

    def test_undated_facts_hold_on_every_day(self) -> None:
        s = Streams()
        for envelope in (
            s.city_registered("c", "C"),
            s.mou_drafted("m", ["a", "b"]),
            s.pilot_status("p", "approved", "approved", None),
            s.organisation_registered("o", "O"),
        ):
            assert known_by(envelope, date(1900, 1, 1), past=True)

    def test_a_signature_of_unknown_date_counts_from_today_on_only(self) -> None:
        unknown = Streams().mou_signed("m", "granada", None)

        assert not known_by(unknown, DAY, past=True)
        assert known_by(unknown, DAY, past=False)


class TestUcapBeginning:
    def test_a_ucap_begins_with_its_period_or_an_earlier_activity(self) -> None:
        created = created_with_period("2018-06")
        early = activity_logged(2, "prep", "2018-04-20")

        assert created_on([created]) == date(2018, 6, 1)
        assert created_on([created, early]) == date(2018, 4, 20)
        assert created_on([created_with_period(None)]) is None

    def test_its_events_by_a_day_are_numbered_again_in_order(self) -> None:
        events = [
            created_with_period("2018-06"),
            activity_logged(2, "late", "2020-03"),
            activity_logged(3, "early", "2019-04"),
        ]

        kept = own_events_by(events, DAY, past=True)

        assert [(e.sequence, e.data.get("activity", {}).get("activity_id")) for e in kept] == [
            (1, None),
            (2, "early"),
        ]
        assert own_events_by(events, date(2018, 5, 31), past=True) == []

    def test_a_planned_activity_holds_on_every_day_and_is_held_from_its_date(self) -> None:
        planned = activity_logged(2, "a", "2020-03", status="planned")
        held = activity_logged(3, "a", "2020-03", status="held").model_copy(
            update={"type": "ucap.ucap.activity_updated.v1"}
        )

        kept = own_events_by([created_with_period("2018-06"), planned, held], DAY, past=True)

        assert [e.data.get("activity", {}).get("status") for e in kept] == [None, "planned"]
