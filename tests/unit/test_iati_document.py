"""The IATI document built from pilots as the services give them: the pure part."""

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from ucap_gateway.config import Settings
from ucap_gateway.iati import (
    IatiSources,
    Publisher,
    UcapPilots,
    activities_document,
    activity_dates,
    activity_status,
    recipient_countries,
)
from ucap_gateway.iati_elements import decimal_text, shares
from ucap_gateway.iati_results import Period, periods

PUBLISHER = Publisher(ref="XX-UCAP-DEV", name="ucap", type="40", language="en")
TODAY = date(2021, 3, 10)
CITIES = {
    "granada": {"id": "granada", "name": "Granada", "country": "ES"},
    "kunming": {"id": "kunming", "name": "Kunming", "country": "CN"},
    "nagoya": {"id": "nagoya", "name": "Nagoya", "country": "JP"},
}


def pilot(**fields: Any) -> dict[str, Any]:
    return {
        "id": "granada-pilot",
        "title": "A pilot",
        "description": "What it does",
        "lead_city_id": "granada",
        "partners": [{"city_id": "granada", "role": "lead"}],
        "status": "proposed",
        "status_changes": [],
        "milestones": [],
        "funding": [],
        "indicators": [],
        "proposed_at": "2020-05-04T10:00:00Z",
        **fields,
    }


def ucap(*pilots: dict[str, Any], counterparts: tuple[str, ...] = ("kunming",)) -> UcapPilots:
    return UcapPilots("granada-ucap", "granada", counterparts, list(pilots))


def document(*pilots: dict[str, Any], now: datetime | None = None) -> tuple[ET.Element, str]:
    built = activities_document(
        IatiSources([ucap(*pilots)], CITIES), PUBLISHER, today=TODAY, now=now
    )
    return ET.fromstring(built.body), built.etag


class TestNumbers:
    @pytest.mark.parametrize("count", [1, 2, 3, 6, 7, 17])
    def test_shares_add_up_to_exactly_100(self, count: int) -> None:
        assert sum(Decimal(share) for share in shares(count)) == 100

    def test_three_shares_give_the_rest_to_the_last(self) -> None:
        assert shares(3) == ["33.33", "33.33", "33.34"]

    @pytest.mark.parametrize(
        ("value", "shown"),
        [(1e16, "10000000000000000"), (0.1, "0.1"), ("25000.50", "25000.5"), (120.0, "120")],
    )
    def test_a_decimal_has_no_exponent_and_no_trailing_zeros(
        self, value: float | str, shown: str
    ) -> None:
        assert decimal_text(value) == shown


class TestDates:
    def test_without_milestones_or_start_the_proposal_is_the_planned_start(self) -> None:
        assert activity_dates(pilot(), TODAY) == [("1", date(2020, 5, 4))]

    def test_an_actual_end_known_to_the_year_is_never_after_today(self) -> None:
        changes = [
            {"status": "in_progress", "effective_on": "2020-09", "recorded_at": "2020-09-02"},
            {"status": "completed", "effective_on": "2021", "recorded_at": "2021-01-02"},
        ]
        found = activity_dates(pilot(status="completed", status_changes=changes), TODAY)

        assert found == [("2", date(2020, 9, 1)), ("4", TODAY)]

    def test_a_change_without_its_date_is_dated_the_day_it_was_recorded(self) -> None:
        changes = [
            {"status": "in_progress", "effective_on": None, "recorded_at": "2020-10-05T08:00"}
        ]

        assert activity_dates(pilot(status="in_progress", status_changes=changes), TODAY) == [
            ("2", date(2020, 10, 5))
        ]

    def test_milestones_plan_the_start_and_the_end(self) -> None:
        milestones = [{"planned_on": "2020-11"}, {"planned_on": "2020"}]

        assert activity_dates(pilot(milestones=milestones), TODAY) == [
            ("1", date(2020, 1, 1)),
            ("3", date(2020, 11, 30)),
        ]


class TestResults:
    def test_a_target_alone_is_one_period_from_the_baseline(self) -> None:
        indicator = {
            "baseline": {"value": 0, "on": "2020"},
            "target": {"value": 9, "on": "2020-11"},
        }

        assert periods(indicator) == [Period(date(2020, 1, 1), date(2020, 11, 30), None)]

    def test_each_actual_closes_a_period_the_next_begins_after(self) -> None:
        indicator = {
            "baseline": None,
            "target": None,
            "actuals": [{"value": 5, "on": "2020-09"}, {"value": 2, "on": "2020-07-15"}],
        }

        assert periods(indicator) == [
            Period(date(2020, 7, 15), date(2020, 7, 15), 2.0),
            Period(date(2020, 7, 16), date(2020, 9, 30), 5.0),
        ]

    def test_a_percentage_unit_is_measured_as_a_percentage(self) -> None:
        indicators = [{"name": "Share", "unit": "%", "baseline": None, "target": None}]
        root, _ = document(pilot(indicators=indicators))

        assert root.find("iati-activity/result/indicator").get("measure") == "2"  # type: ignore[union-attr]


class TestTheActivity:
    def test_an_activity_without_its_iati_status_maps_its_status(self) -> None:
        assert activity_status(pilot(status="on_hold")) == "6"

    def test_a_code_outside_the_codelist_is_refused(self) -> None:
        with pytest.raises(ValueError, match="no IATI activity status"):
            activity_status(pilot(iati_status={"code": 9, "name": "?"}))

    def test_without_a_partner_the_counterparts_are_the_recipients(self) -> None:
        assert recipient_countries(pilot(), ucap(counterparts=("kunming", "nagoya")), CITIES) == [
            "CN",
            "JP",
        ]

    def test_characters_xml_cannot_hold_are_left_out(self) -> None:
        root, _ = document(pilot(title="Bell\x07 and tab\t"))

        assert root.findtext("iati-activity/title/narrative") == "Bell and tab\t"

    def test_the_etag_moves_with_the_content_not_the_generation_time(self) -> None:
        _, first = document(pilot(), now=datetime(2021, 1, 1, tzinfo=UTC))
        _, later = document(pilot(), now=datetime(2021, 6, 1, tzinfo=UTC))
        _, changed = document(pilot(title="Another title"), now=datetime(2021, 1, 1, tzinfo=UTC))

        assert first == later
        assert changed != first


class TestSettings:
    def test_the_reporting_organisation_type_must_be_an_iati_code(self) -> None:
        with pytest.raises(ValidationError, match="OrganisationType"):
            Settings(iati_org_type="41")
