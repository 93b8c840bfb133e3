"""The programme, a U-CAP's status and the pilots list as CSV and XLSX, through the gateway."""

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.support.stack import Stack, load_granada, running_stack
from tests.support.waiting import answer_once, polled

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPDATED_PILOT = "granada-blockchain-webinars"
SUMMARY = "First blockchain webinar held"
# The documented columns (README, "Spreadsheets"): a change here is a change of the API.
PROGRAMME_COLUMNS = [
    "ucap_id",
    "title",
    "lead_city_id",
    "pilots",
    "pilots_proposed",
    "pilots_approved",
    "pilots_in_progress",
    "pilots_on_hold",
    "pilots_completed",
    "pilots_cancelled",
    "mous",
    "mous_signed",
    "milestones_done",
    "milestones_due",
    "milestones_overdue",
    "share_pilots_updated_90_days",
    "stale_pilots",
    "expiring_mous",
]
STATUS_COLUMNS = [
    "ucap_id",
    "counterpart_city_id",
    "counterpart_city_name",
    "pilot_id",
    "title",
    "lead_city_id",
    "status",
    "iati_status_code",
    "iati_status_name",
    "cluster",
    "themes",
    "milestones_done",
    "milestones_due",
    "milestones_overdue",
    "funding_awards",
    "stale",
    "last_update_reported_on",
    "last_update_reporting_city_id",
    "last_update_summary",
    "description",
]
PILOTS_COLUMNS = [
    "pilot_id",
    "title",
    "lead_city_id",
    "partners",
    "ucap_id",
    "cluster",
    "themes",
    "sdg_goals",
    "sdg_targets",
    "urban_agenda_themes",
    "mou_ids",
    "status",
    "iati_status_code",
    "iati_status_name",
    "milestones",
    "milestones_done",
    "milestones_overdue",
    "funding_awards",
    "last_update_reported_on",
    "last_update_reporting_city_id",
    "last_update_summary",
    "days_since_last_update",
    "proposed_at",
    "updated_at",
    "description",
]


@pytest.fixture(scope="module")
def granada(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    log_dir: Path = tmp_path_factory.mktemp("e2e-sheets-logs")
    with running_stack(service_env, log_dir) as stack:
        load_granada(stack.url, stack.env)
        # A progress update dated to the month: the sheets must keep it a month.
        posted = httpx.post(
            f"{stack.url}/pilots/{UPDATED_PILOT}/progress",
            json={"reported_on": "2020-07", "reporting_city_id": "granada", "summary": SUMMARY},
            headers={**stack.headers, "Idempotency-Key": "sheets-webinar-1"},
            timeout=30,
        )
        assert posted.status_code == 201, posted.text
        answer_once(
            lambda: get(stack, "/ucaps/granada-ucap/status", format="md"),
            lambda answer: SUMMARY in answer.text,
            timeout=30,
        )
        yield stack


def get(stack: Stack, path: str, accept: str | None = None, **params: str) -> httpx.Response:
    headers = {**stack.headers, **({"Accept": accept} if accept else {})}
    return httpx.get(f"{stack.url}{path}", params=params, headers=headers, timeout=60)


def csv_table(answer: httpx.Response) -> list[list[str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


def xlsx_tables(answer: httpx.Response) -> dict[str, list[list[str]]]:
    """Every sheet, each cell as the CSV writes it (empty for none)."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    return {
        sheet.title: [
            ["" if value is None else str(value) for value in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        for sheet in book.worksheets
    }


def filename(answer: httpx.Response) -> str:
    found = re.fullmatch(r'attachment; filename="([^"]+)"', answer.headers["content-disposition"])
    assert found is not None
    return found.group(1)


def same_snapshot(
    stack: Stack, path: str, **params: str
) -> tuple[httpx.Response, httpx.Response, httpx.Response]:
    """The CSV, XLSX and JSON answers of one kept compile (their ETags name one content)."""

    def one_content(answers: list[httpx.Response]) -> bool:
        return len({answer.headers["etag"].split("-", 1)[1] for answer in answers}) == 1

    answers = polled(
        lambda: [get(stack, path, format=fmt, **params) for fmt in ("csv", "xlsx", "json")],
        one_content,
        timeout=30,
    )
    assert one_content(answers), "the compile never held still"
    return answers[0], answers[1], answers[2]


class TestProgrammeSheets:
    def test_csv_is_one_row_per_ucap_under_the_documented_columns(self, granada: Stack) -> None:
        as_csv, _, as_json = same_snapshot(granada, "/programme/status")
        programme: dict[str, Any] = as_json.json()
        table = csv_table(as_csv)
        assert table[0] == PROGRAMME_COLUMNS
        assert [row[0] for row in table[1:]] == [u["ucap_id"] for u in programme["ucaps"]]
        row = dict(zip(table[0], table[1], strict=True))
        figures = programme["ucaps"][0]["figures"]
        assert row["ucap_id"] == "granada-ucap"
        assert row["pilots"] == str(figures["pilots"]) != "0"
        assert row["mous_signed"] == str(figures["mous_signed"])
        assert row["milestones_done"] == str(figures["milestones"]["done"])
        by_status = figures["pilots_by_status"]
        assert row["pilots_completed"] == str(by_status.get("completed", 0))
        assert filename(as_csv) == f"programme-status-{programme['on']}.csv"

    def test_xlsx_reads_back_as_the_csv_with_the_counts_by_group(self, granada: Stack) -> None:
        as_csv, as_xlsx, as_json = same_snapshot(granada, "/programme/status")
        tables = xlsx_tables(as_xlsx)
        assert list(tables) == ["ucaps", "by_cluster", "by_theme", "by_sdg", "by_country"]
        assert tables["ucaps"] == csv_table(as_csv)
        countries = {row[0] for row in tables["by_country"][1:]}
        assert countries == {g["key"] for g in as_json.json()["by_country"]} >= {"ES", "CN"}
        assert filename(as_xlsx).endswith(".xlsx")

    def test_accept_header_chooses_csv_and_filters_apply(self, granada: Stack) -> None:
        table = csv_table(get(granada, "/programme/status", accept="text/csv", country="CN"))
        assert [row[0] for row in table[1:]] == ["granada-ucap"]
        assert csv_table(get(granada, "/programme/status", format="csv", country="FR"))[1:] == []


class TestUcapStatusSheets:
    def test_csv_is_one_row_per_pilot_under_its_counterpart_city(self, granada: Stack) -> None:
        as_csv, _, as_json = same_snapshot(granada, "/ucaps/granada-ucap/status")
        status = as_json.json()["status"]
        table = csv_table(as_csv)
        assert table[0] == STATUS_COLUMNS
        rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
        expected = [("", p["pilot_id"]) for p in status["other_pilots"]] + [
            (c["city"]["city_id"], p["pilot_id"])
            for c in status["counterparts"]
            for p in c["pilots"]
        ]
        assert [(r["counterpart_city_id"], r["pilot_id"]) for r in rows] == expected
        assert len(rows) > 1
        updated = [r for r in rows if r["pilot_id"] == UPDATED_PILOT]
        assert updated
        for row in updated:
            assert row["last_update_reported_on"] == "2020-07"
            assert row["last_update_summary"] == SUMMARY
            assert row["last_update_reporting_city_id"] == "granada"
        assert {r["last_update_reported_on"] for r in rows} == {"2020-07", ""}
        assert filename(as_csv) == f"granada-ucap-status-{status['on']}.csv"

    def test_xlsx_reads_back_as_the_csv_with_milestones_activities_and_mous(
        self, granada: Stack
    ) -> None:
        as_csv, as_xlsx, as_json = same_snapshot(granada, "/ucaps/granada-ucap/status")
        tables = xlsx_tables(as_xlsx)
        assert list(tables) == ["pilots", "milestones", "activities", "mous"]
        assert tables["pilots"] == csv_table(as_csv)
        ucap = as_json.json()["status"]["ucap"]
        assert [row[0] for row in tables["activities"][1:]] == [
            a["date"] for a in ucap["activities"]
        ]
        # Dates as the cooperation gave them: a month stays a month, never a padded day.
        planned = {(row[0], row[1]): row[2] for row in tables["milestones"][1:]}
        assert planned[("granada-blockchain-webinars", "First blockchain webinar")] == "2020-07"
        assert any(len(row[0]) == 7 for row in tables["activities"][1:])

    def test_as_of_gives_that_day_s_status_as_a_spreadsheet(self, granada: Stack) -> None:
        answer = get(granada, "/ucaps/granada-ucap/status", accept=XLSX, as_of="2019-12-31")
        pilots = xlsx_tables(answer)["pilots"]
        assert pilots[0] == STATUS_COLUMNS
        assert filename(answer) == "granada-ucap-status-2019-12-31.xlsx"
        now = csv_table(get(granada, "/ucaps/granada-ucap/status", format="csv"))
        assert len(pilots) < len(now), "pilots proposed after 2019 are not in it"


class TestPilotsListSheets:
    def every_page(self, stack: Stack, **filters: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: dict[str, str] = {}
        while True:
            page = get(stack, "/pilots", limit="200", **filters, **cursor).json()
            items += page["items"]
            if not page["next_cursor"]:
                return items
            cursor = {"cursor": page["next_cursor"]}

    def test_csv_follows_every_page_with_the_list_s_filters(self, granada: Stack) -> None:
        pilots = self.every_page(granada, ucap="granada-ucap")
        # Pages of two: the gateway follows next_cursor to the last.
        answer = get(granada, "/pilots", format="csv", ucap="granada-ucap", limit="2")
        table = csv_table(answer)
        assert table[0] == PILOTS_COLUMNS
        assert [row[0] for row in table[1:]] == [p["id"] for p in pilots]
        assert len(pilots) > 2
        assert re.fullmatch(r"pilots-\d{4}-\d{2}-\d{2}\.csv", filename(answer))
        row = dict(zip(table[0], table[1], strict=True))
        first = pilots[0]
        assert row["lead_city_id"] == first["lead_city_id"]
        assert row["sdg_goals"] == "; ".join(map(str, first["sdg_goals"]))
        assert row["milestones"] == str(len(first["milestones"]))
        updated = next(row for row in table if row[0] == UPDATED_PILOT)
        assert updated[PILOTS_COLUMNS.index("last_update_reported_on")] == "2020-07"
        assert updated[PILOTS_COLUMNS.index("last_update_summary")] == SUMMARY
        in_progress = self.every_page(granada, ucap="granada-ucap", status="in_progress")
        filtered = csv_table(
            get(granada, "/pilots", accept="text/csv", ucap="granada-ucap", status="in_progress")
        )
        assert [row[0] for row in filtered[1:]] == [p["id"] for p in in_progress]
        assert len(in_progress) < len(pilots)

    def test_xlsx_reads_back_as_the_csv(self, granada: Stack) -> None:
        as_csv = get(granada, "/pilots", format="csv", ucap="granada-ucap", limit="3")
        as_xlsx = get(granada, "/pilots", accept=XLSX, ucap="granada-ucap", limit="5")
        tables = xlsx_tables(as_xlsx)
        assert list(tables) == ["pilots"]
        assert tables["pilots"] == csv_table(as_csv)
        assert int(as_xlsx.headers["content-length"]) == len(as_xlsx.content)

    def test_without_a_spreadsheet_asked_the_list_is_forwarded_as_json(
        self, granada: Stack
    ) -> None:
        answer = get(granada, "/pilots", ucap="granada-ucap", limit="2")
        assert answer.headers["content-type"] == "application/json"
        assert len(answer.json()["items"]) == 2

    def test_a_formula_in_a_title_stays_text(self, granada: Stack) -> None:
        created = httpx.post(
            f"{granada.url}/pilots",
            json={
                "id": "granada-formula",
                "title": '=HYPERLINK("http://example.org","x")',
                "lead_city_id": "granada",
            },
            headers=granada.headers,
            timeout=30,
        )
        assert created.status_code in (200, 201), created.text
        table = csv_table(get(granada, "/pilots", format="csv", city="granada"))
        titles = {row[0]: row[1] for row in table[1:]}
        assert titles["granada-formula"] == '\'=HYPERLINK("http://example.org","x")'
        answer = get(granada, "/pilots", format="xlsx", city="granada")
        sheet = load_workbook(io.BytesIO(answer.content))["pilots"]
        cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
        assert cells["granada-formula"].value == '=HYPERLINK("http://example.org","x")'
        assert cells["granada-formula"].data_type == "s"


class TestRefusals:
    @pytest.mark.parametrize("path", ["/pilots", "/programme/status", "/ucaps/granada-ucap/status"])
    def test_an_unknown_format_is_refused_in_the_error_body(
        self, granada: Stack, path: str
    ) -> None:
        answer = get(granada, path, format="pdf")
        assert answer.status_code == 422
        body = answer.json()
        assert body["error"] == "invalid_input"
        assert body["detail"][0]["loc"] == ["query", "format"]

    def test_a_bad_filter_of_the_list_is_the_pilots_service_s_refusal(self, granada: Stack) -> None:
        answer = get(granada, "/pilots", format="csv", sdg="99")
        assert answer.status_code == 422
        assert answer.json()["error"] == "invalid_input"

    def test_an_unknown_ucap_is_404_in_the_error_body(self, granada: Stack) -> None:
        answer = get(granada, "/ucaps/no-such-ucap/status", format="xlsx")
        assert answer.status_code == 404
        assert answer.json()["error"] == "not_found"
