"""``GET /programme/iati-activities.xml`` over the whole system, as real processes: the
Granada U-CAP's pilots, with a start, a completion, a cancellation, a funding award with
an amount and an indicator with actuals, come out as IATI 2.03 activities.

The codelists are written here from the IATI 2.03 standard's documentation, apart from
the gateway's own mapping, so a code the gateway emits is checked against the standard.
"""

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.keys import auth, create_key
from tests.support.processes import RunningService, free_port, run_service
from tests.support.stack import Stack, load_granada, running_stack
from tests.support.waiting import polled

ORG_REF = "XE-TEST-ucap"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ACTIVITY_STATUS = {"1", "2", "3", "4", "5", "6"}
ORGANISATION_ROLE = {"1", "2", "3", "4"}
ORGANISATION_TYPE = {
    *("10", "11", "15", "21", "22", "23", "24", "30", "40", "60", "70", "71", "72", "73"),
    *("80", "90"),
}
ACTIVITY_DATE_TYPE = {"1", "2", "3", "4"}
SECTOR_VOCABULARY = {str(code) for code in range(1, 13)} | {"98", "99"}
DESCRIPTION_TYPE = {"1", "2", "3", "4"}
TRANSACTION_TYPE = {str(code) for code in range(1, 14)}
RESULT_TYPE = {"1", "2", "3", "9"}
INDICATOR_MEASURE = {"1", "2", "3", "4", "5"}
SDG_GOALS = {str(goal) for goal in range(1, 18)}
SDG_TARGET = re.compile(r"^(\d{1,2})\.(\d{1,2}|[a-z])$")
# The order of an iati-activity's children in the 2.03 schema (those ucap can emit).
ACTIVITY_ORDER = [
    "iati-identifier",
    "reporting-org",
    "title",
    "description",
    "participating-org",
    "activity-status",
    "activity-date",
    "recipient-country",
    "sector",
    "transaction",
    "result",
]

STARTED = "granada-blockchain-webinars"
COMPLETED = "granada-haikou-smart-tourism"
CANCELLED = "granada-blocklab"


@pytest.fixture(scope="module")
def granada(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    log_dir: Path = tmp_path_factory.mktemp("iati-logs")
    env = {**service_env, "UCAP_GATEWAY_IATI_ORG_REF": ORG_REF}
    with running_stack(env, log_dir) as stack:
        load_granada(stack.url, stack.env)
        _write(stack, STARTED, "start", {"effective_on": "2020-07"})
        _write(
            stack,
            STARTED,
            "funding",
            {
                "id": "city-match-2020",
                "funder": "Granada city council",
                "amount": "25000.50",
                "currency": "EUR",
                "awarded_on": "2020-06",
            },
        )
        _write(
            stack,
            STARTED,
            "indicators",
            {
                "id": "participants",
                "name": "Webinar participants",
                "unit": "people",
                "baseline": {"value": 0, "on": "2020-06"},
                "target": {"value": 300, "on": "2020-11"},
            },
        )
        _write(
            stack,
            STARTED,
            "progress",
            {
                "reported_on": "2020-07-15",
                "reporting_city_id": "granada",
                "summary": "First webinar held with 120 participants.",
                "indicator_values": [{"indicator_id": "participants", "value": 120}],
                "idempotency_key": "iati-test-webinar-1",
            },
        )
        for action, on in (("approve", "2020-06"), ("start", "2020-09"), ("complete", "2021")):
            _write(stack, COMPLETED, action, {"effective_on": on})
        _write(stack, CANCELLED, "cancel", {"effective_on": "2020-12-01"})
        yield stack


def _write(stack: Stack, pilot_id: str, step: str, body: dict[str, object]) -> None:
    answer = httpx.post(
        f"{stack.url}/pilots/{pilot_id}/{step}", json=body, headers=stack.headers, timeout=30
    )
    assert answer.status_code in (200, 201), answer.text


def activities(stack: Stack, **filters: str) -> httpx.Response:
    return httpx.get(
        f"{stack.url}/programme/iati-activities.xml",
        params=filters,
        headers=stack.headers,
        timeout=30,
    )


def eventually_parsed(
    stack: Stack, holds: Callable[[ET.Element], bool], timeout: float = 60, **filters: str
) -> ET.Element:
    """The parsed document once ``holds`` holds for it (the views apply events a moment
    after the writes are answered)."""
    answer = polled(
        lambda: activities(stack, **filters),
        lambda answer: answer.status_code != 200 or holds(ET.fromstring(answer.content)),
        timeout=timeout,
        interval=0.5,
    )
    assert answer.status_code == 200, answer.text
    root = ET.fromstring(answer.content)
    assert holds(root), f"never held:\n{answer.text}"
    return root


def by_pilot(root: ET.Element) -> dict[str, ET.Element]:
    return {
        activity.findtext("iati-identifier", "").removeprefix(f"{ORG_REF}-"): activity
        for activity in root.findall("iati-activity")
    }


def all_written(root: ET.Element) -> bool:
    found = by_pilot(root)
    return (
        CANCELLED in found
        and found[CANCELLED].find("activity-status[@code='5']") is not None
        and found[COMPLETED].find("activity-date[@type='4']") is not None
        and found[STARTED].find("result/indicator/period/actual") is not None
        and found[STARTED].find("transaction") is not None
    )


@pytest.fixture(scope="module")
def document(granada: Stack) -> ET.Element:
    return eventually_parsed(granada, all_written)


def dates(activity: ET.Element) -> dict[str, str]:
    return {d.get("type", ""): d.get("iso-date", "") for d in activity.findall("activity-date")}


def attr(parent: ET.Element, path: str, name: str) -> str:
    """The attribute ``name`` of the element at ``path`` under ``parent``, which must be there."""
    element = parent.find(path)
    assert element is not None, f"no {path} in {parent.tag}"
    return element.get(name, "")


def narratives(element: ET.Element | None) -> list[str]:
    assert element is not None
    found = element.findall("narrative")
    assert found, f"{element.tag} has no narrative"
    assert all(n.text for n in found)
    return [n.text or "" for n in found]


class TestTheDocument:
    def test_the_root_is_iati_activities_203_with_its_generation_time(
        self, document: ET.Element
    ) -> None:
        assert document.tag == "iati-activities"
        assert document.get("version") == "2.03"
        generated = datetime.fromisoformat(document.get("generated-datetime", ""))
        assert generated.tzinfo is not None

    def test_every_pilot_of_the_ucap_is_one_activity(self, document: ET.Element) -> None:
        found = by_pilot(document)

        assert len(found) == 13
        assert {STARTED, COMPLETED, CANCELLED, "granada-zhengzhou-smart-city"} <= set(found)

    def test_every_activity_has_the_required_elements_in_the_schema_order(
        self, document: ET.Element
    ) -> None:
        for activity in document.findall("iati-activity"):
            identifier = activity.findtext("iati-identifier", "")
            assert identifier.startswith(f"{ORG_REF}-granada-")
            updated = datetime.fromisoformat(activity.get("last-updated-datetime", ""))
            assert updated.tzinfo is not None
            assert activity.get(XML_LANG) == "en"
            reporting = activity.find("reporting-org")
            assert reporting is not None
            assert reporting.get("ref") == ORG_REF
            assert reporting.get("type") in ORGANISATION_TYPE
            assert narratives(reporting)
            for part in ("title", "description"):
                element = activity.find(part)
                assert narratives(element)
                assert element is not None
                assert all(n.get(XML_LANG) == "en" for n in element.findall("narrative"))
            assert activity.findall("participating-org")
            assert activity.find("activity-status") is not None
            assert activity.findall("activity-date")
            order = [ACTIVITY_ORDER.index(child.tag) for child in activity]
            assert order == sorted(order), identifier

    def test_every_code_used_is_in_its_codelist(self, document: ET.Element) -> None:
        for activity in document.findall("iati-activity"):
            assert attr(activity, "activity-status", "code") in ACTIVITY_STATUS
            for org in activity.findall("participating-org"):
                assert org.get("role") in ORGANISATION_ROLE
                assert org.get("type", "11") in ORGANISATION_TYPE
                assert narratives(org)
            for when in activity.findall("activity-date"):
                assert when.get("type") in ACTIVITY_DATE_TYPE
                date.fromisoformat(when.get("iso-date", ""))
            for description in activity.findall("description"):
                assert description.get("type") in DESCRIPTION_TYPE
            for sector in activity.findall("sector"):
                assert sector.get("vocabulary") in SECTOR_VOCABULARY
                code = sector.get("code", "")
                if sector.get("vocabulary") == "7":
                    assert code in SDG_GOALS
                else:
                    match = SDG_TARGET.match(code)
                    assert match is not None
                    assert match.group(1) in SDG_GOALS
            for transaction in activity.findall("transaction"):
                assert attr(transaction, "transaction-type", "code") in TRANSACTION_TYPE
            for result in activity.findall("result"):
                assert result.get("type") in RESULT_TYPE
                for indicator in result.findall("indicator"):
                    assert indicator.get("measure") in INDICATOR_MEASURE

    def test_percentages_add_up_to_100_per_vocabulary_and_for_the_countries(
        self, document: ET.Element
    ) -> None:
        for activity in document.findall("iati-activity"):
            countries = activity.findall("recipient-country")
            assert countries
            assert all(re.fullmatch(r"[A-Z]{2}", c.get("code", "")) for c in countries)
            assert sum(float(c.get("percentage", "0")) for c in countries) == pytest.approx(100)
            for vocabulary in ("7", "8"):
                sectors = activity.findall(f"sector[@vocabulary='{vocabulary}']")
                if sectors:
                    total = sum(float(s.get("percentage", "0")) for s in sectors)
                    assert total == pytest.approx(100)


class TestWhatEachPilotSays:
    def test_a_started_pilot_is_in_implementation_since_its_start(
        self, document: ET.Element
    ) -> None:
        started = by_pilot(document)[STARTED]

        assert attr(started, "activity-status", "code") == "2"
        assert dates(started) == {"1": "2020-07-01", "2": "2020-07-01", "3": "2020-11-30"}

    def test_a_completed_pilot_is_in_finalisation_with_its_actual_end(
        self, document: ET.Element
    ) -> None:
        completed = by_pilot(document)[COMPLETED]

        assert attr(completed, "activity-status", "code") == "3"
        # Known only to the year: ended on its last day.
        assert dates(completed) == {"2": "2020-09-01", "4": "2021-12-31"}

    def test_a_cancelled_pilot_is_cancelled(self, document: ET.Element) -> None:
        cancelled = by_pilot(document)[CANCELLED]

        assert attr(cancelled, "activity-status", "code") == "5"
        assert dates(cancelled)["4"] == "2020-12-01"

    def test_the_lead_and_partners_implement_and_funders_fund(self, document: ET.Element) -> None:
        orgs = [
            (org.get("role"), narratives(org)[0])
            for org in by_pilot(document)[STARTED].findall("participating-org")
        ]

        assert ("4", "Granada") in orgs
        assert {("4", city) for city in ("Kunming", "Liuzhou", "Haikou", "Zhengzhou")} <= set(orgs)
        assert ("1", "IUC competitive fund") in orgs
        assert ("1", "Granada city council") in orgs

    def test_the_partner_cities_countries_are_the_recipients(self, document: ET.Element) -> None:
        countries = by_pilot(document)[STARTED].findall("recipient-country")

        assert [(c.get("code"), c.get("percentage")) for c in countries] == [("CN", "100")]

    def test_sdg_goals_and_targets_are_sectors(self, document: ET.Element) -> None:
        festivals = by_pilot(document)["granada-liuzhou-artists-festivals"]
        sectors = [(s.get("vocabulary"), s.get("code")) for s in festivals.findall("sector")]

        assert sectors == [("7", "11"), ("8", "11.4")]

    def test_an_award_with_an_amount_is_a_commitment_with_currency_and_value_date(
        self, document: ET.Element
    ) -> None:
        transactions = by_pilot(document)[STARTED].findall("transaction")

        assert len(transactions) == 1  # the IUC award has no amount
        value = transactions[0].find("value")
        assert value is not None
        assert (value.text, value.get("currency"), value.get("value-date")) == (
            "25000.5",
            "EUR",
            "2020-06-01",
        )
        assert attr(transactions[0], "transaction-type", "code") == "11"
        assert narratives(transactions[0].find("provider-org")) == ["Granada city council"]

    def test_an_indicator_has_its_baseline_target_and_actuals(self, document: ET.Element) -> None:
        indicator = by_pilot(document)[STARTED].find("result/indicator")
        assert indicator is not None
        baseline = indicator.find("baseline")
        period = indicator.find("period")
        assert baseline is not None
        assert period is not None

        assert narratives(indicator.find("title")) == ["Webinar participants"]
        assert (baseline.get("year"), baseline.get("iso-date"), baseline.get("value")) == (
            "2020",
            "2020-06-01",
            "0",
        )
        assert attr(period, "period-start", "iso-date") == "2020-06-01"
        assert attr(period, "period-end", "iso-date") == "2020-07-15"
        assert attr(period, "target", "value") == "300"
        assert attr(period, "actual", "value") == "120"


class TestTheRoute:
    def test_the_programme_filters_select_the_ucaps(
        self, granada: Stack, document: ET.Element
    ) -> None:
        assert len(eventually_parsed(granada, lambda root: True, sdg="11")) > 0
        none = eventually_parsed(granada, lambda root: True, cluster="No such cluster")

        assert none.findall("iati-activity") == []
        assert none.get("version") == "2.03"

    def test_a_filter_out_of_bounds_is_refused(self, granada: Stack) -> None:
        assert activities(granada, sdg="18").status_code == 422

    def test_it_is_xml_with_an_etag_that_answers_304(
        self, granada: Stack, document: ET.Element
    ) -> None:
        first = activities(granada)
        again = httpx.get(
            f"{granada.url}/programme/iati-activities.xml",
            headers={**granada.headers, "If-None-Match": first.headers["etag"]},
            timeout=30,
        )

        assert first.headers["content-type"].startswith("application/xml")
        assert again.status_code == 304

    def test_it_needs_a_key(self, granada: Stack) -> None:
        answer = httpx.get(f"{granada.url}/programme/iati-activities.xml", timeout=30)

        assert answer.status_code == 401

    def test_the_openapi_document_describes_it_with_the_programme_filters(
        self, granada: Stack
    ) -> None:
        document = httpx.get(f"{granada.url}/openapi.json", headers=granada.headers, timeout=30)
        operation = document.json()["paths"]["/programme/iati-activities.xml"]["get"]

        assert "application/xml" in operation["responses"]["200"]["content"]
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"cluster", "theme", "sdg", "country"} <= names


@pytest.fixture(scope="module")
def without_reporting(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """A gateway whose reporting service is not there."""
    env = {
        **service_env,
        "UCAP_GATEWAY_DATABASE": f"test_gw_iati_{uuid.uuid4().hex[:8]}",
        "UCAP_GATEWAY_REPORTING_URL": f"http://127.0.0.1:{free_port()}",
    }
    reader = create_key(env, principal="ops:iuc", roles=["reader"])["key"]
    with run_service("gateway", env, tmp_path_factory.mktemp("iati-down-logs")) as gateway:
        gateway.headers = auth(reader)
        yield gateway


class TestWithoutASource:
    def test_no_document_but_503_naming_the_service(
        self, without_reporting: RunningService
    ) -> None:
        answer = httpx.get(
            f"{without_reporting.url}/programme/iati-activities.xml",
            headers=without_reporting.headers,
            timeout=30,
        )

        assert answer.status_code == 503
        assert answer.json()["error"] == "iati_unavailable"
        assert answer.json()["service"] == "reporting"
        assert answer.headers["retry-after"] == "5"
