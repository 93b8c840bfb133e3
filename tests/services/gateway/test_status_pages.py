"""The status pages show every fact the status JSON holds, draw it, and stand on the
axis and day asked for.

The gateway runs as a real process. Reporting (and, for the lead city's name on the
programme page, the cities service) is a small HTTP server of the test's own that
answers a status carrying every field of contract B; the pilots and MoUs services
are ports where nothing listens, so every connection to them is refused.
"""

import io
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from openpyxl import load_workbook

from tests.services.gateway import sample_status
from tests.support.browser import browser_page, chromium
from tests.support.processes import RunningService
from tests.support.screenshots import picture_labels, read_png, whole_page
from tests.support.served import gateway_before, served
from tests.support.status_facts import facts_of, html_text, markdown_text, missing

STATUS_PATH = f"/ucaps/{sample_status.UCAP_ID}/status"
WINDOW_HEIGHT = 2000  # tests.support.browser's window
CITY_NAMES = {"west-midlands": "West Midlands", "guangzhou": "Guangzhou", "tianfu": "Tianfu"}


class FakeReporting(ThreadingHTTPServer):
    """Reporting's status and programme, and the cities' names; notes what was asked."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReportingHandler)
        self.asked: list[tuple[str, dict[str, str]]] = []
        self.failing_as_of = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ReportingHandler(BaseHTTPRequestHandler):
    server: FakeReporting

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        self.server.asked.append((url.path, query))
        if url.path == STATUS_PATH:
            day = query.get("as_of") or query.get("recorded_as_of")
            if day and self.server.failing_as_of:
                self._answer(500, {"error": "internal", "detail": "as-of went wrong"})
                return
            axis = "cooperation" if "as_of" in query else "recorded" if day else "live"
            self._answer(200, sample_status.status(axis=axis, on=day or "2020-07-01"))
        elif url.path == "/programme/status":
            self._answer(200, sample_status.programme())
        elif url.path.startswith("/cities/") and url.path[8:] in CITY_NAMES:
            city_id = url.path[8:]
            self._answer(200, {"id": city_id, "name": CITY_NAMES[city_id], "stakeholders": []})
        else:
            self._answer(404, {"error": "not_found", "detail": "no such endpoint"})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        content = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def reporting() -> Iterator[FakeReporting]:
    server = FakeReporting()
    with served(server):
        yield server


@pytest.fixture(scope="module")
def gateway(
    service_env: dict[str, str],
    reporting: FakeReporting,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningService]:
    upstreams = {"reporting": reporting.url, "cities": reporting.url}
    with gateway_before(service_env, upstreams, tmp_path_factory.mktemp("gateway-logs")) as gw:
        yield gw


def asked_days(reporting: FakeReporting) -> list[dict[str, str]]:
    """The queries of the status requests for a day (the kept live status is asked for
    again every few seconds, with none)."""
    return [query for path, query in reporting.asked if path == STATUS_PATH and query]


def get(gateway: RunningService, path: str = STATUS_PATH, **params: str) -> httpx.Response:
    return httpx.get(f"{gateway.url}{path}", params=params, headers=gateway.headers, timeout=30)


class TestEveryFact:
    def test_each_fact_of_the_json_is_in_the_markdown_and_in_the_html(
        self, gateway: RunningService
    ) -> None:
        status = get(gateway, format="json").json()["status"]
        facts = facts_of(status)
        markdown = markdown_text(get(gateway, format="md").text)
        page = html_text(get(gateway, format="html").text)

        assert len(facts) > 60
        assert {
            "广州",
            "天府新区",
            "中英生物科技基金",
            "Tianfu Expo Bureau",
            "date unknown",
        } <= set(facts), "the walk reaches contract B's fields"
        assert missing(facts, markdown) == []
        assert missing(facts, page) == []

    def test_a_dropped_section_is_missed(self, gateway: RunningService) -> None:
        status = get(gateway, format="json").json()["status"]
        page = get(gateway, format="html").text
        without_stakeholders = re.sub(
            r"<h2>Cities and their stakeholders</h2>.*?<h2>", "<h2>", page, flags=re.S
        )

        dropped = missing(facts_of(status), html_text(without_stakeholders))
        assert "https://example.org/wmgc" in dropped
        assert "中英生物科技基金" in dropped

    def test_names_stand_with_native_names_and_kinds_not_cities(
        self, gateway: RunningService
    ) -> None:
        markdown = get(gateway, format="md").text
        page = html_text(get(gateway, format="html").text)

        for text in (markdown, page):
            assert "West Midlands (combined authority)" in text
            assert "Guangzhou 广州" in text
            assert "Tianfu New Area 天府新区 (new area)" in text
            assert "SDG 9: Industry, Innovation and Infrastructure" in text
            assert "Guangzhou (co lead)" in text
            assert "UK-China Biotech Fund signed, date unknown in London" in text

    def test_indicators_read_baseline_latest_target_with_units(
        self, gateway: RunningService
    ) -> None:
        wanted = (
            "Start-ups incubated: baseline 4 companies (2019) → latest 13 companies (June 2020)"
            " → target 24 companies (2021)"
        )
        assert wanted in get(gateway, format="md").text
        assert wanted in html_text(get(gateway, format="html").text)
        assert "latest not set → target 2 500 000 GBP (2021)" in get(gateway, format="md").text

    def test_activities_say_their_range_and_planned_ones_are_not_held(
        self, gateway: RunningService
    ) -> None:
        markdown = markdown_text(get(gateway, format="md").text)
        page = html_text(get(gateway, format="html").text)

        for text in (markdown, page):
            assert "9–15 June 2019: Mission to the Smart City Congress in Chengdu" in text
            assert "Closing conference (planned)" in text
            assert "Delegation visit to Guangzhou (cancelled)" in text
            assert "Activities planned | 1" in text or "Activities planned 1" in text

    def test_expected_results_are_headed_lists_not_one_paragraph(
        self, gateway: RunningService
    ) -> None:
        page = get(gateway, format="html").text
        markdown = get(gateway, format="md").text

        assert '<h3 class="results-heading">Guangzhou</h3>' in page
        assert "<li>A joint biotech incubator on Bio Island.</li>" in page
        assert "<li>A smart city showcase at the Smart City Congress in Chengdu.</li>" in page
        assert "**Tianfu New Area:**\n\n- A smart city showcase" in markdown

    def test_the_spreadsheet_s_activities_carry_their_end_and_status(
        self, gateway: RunningService
    ) -> None:
        answer = get(gateway, format="xlsx", as_of="2019-12-31")
        sheet = load_workbook(io.BytesIO(answer.content), read_only=True)["activities"]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]

        assert answer.status_code == 200
        assert rows[0][-2:] == ["end_date", "status"]
        assert [rows[2][0], *rows[2][-2:]] == ["2019-06-09", "2019-06-15", "held"]
        assert rows[4][-1] == "planned"


class TestPictures:
    def test_each_picture_is_an_svg_image_named_by_its_title_and_description(
        self, gateway: RunningService
    ) -> None:
        page = get(gateway, format="html").text
        pictures = re.findall(r'<svg [^>]*id="([^"]+)"[^>]*role="img"[^>]*>', page)

        assert pictures == ["timeline-chart", "pilots-chart", "indicators-chart"]
        for chart in pictures:
            assert f'aria-labelledby="{chart}-title {chart}-desc"' in page
            assert re.search(rf'<title id="{chart}-title">[^<]+</title>', page)
            assert re.search(rf'<desc id="{chart}-desc">[^<]+</desc>', page)
        refreshed = page.split('id="live-content"')[1].split("</main>")[0]
        assert "<script" not in refreshed
        assert refreshed.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3, (
            "the live refresh swaps the pictures with the rest"
        )
        assert ">on 1 July 2020</text>" in refreshed, "the status's day on the timeline"

    def test_each_picture_has_a_table_with_the_same_data(self, gateway: RunningService) -> None:
        page = get(gateway, format="html").text
        timeline = page.split('<table id="timeline-table">')[1].split("</table>")[0]

        # 4 activities, 3 signatures, 2 milestones
        assert timeline.count("<tr>") == 1 + 9
        assert "<caption>" in timeline
        assert '<th scope="col">When</th>' in timeline
        assert '<th scope="row">date unknown</th>' in timeline
        assert re.search(r"Closing conference</td><td class=\"planned\">planned", timeline)
        assert page.count('<g class="mark ') == 8, "every dated event is drawn"
        assert '<th scope="row">in progress</th><td>1</td>' in page
        assert "<td>45%</td>" in page  # 4 -> 13 of the way to 24 companies

    def test_every_table_has_a_caption_and_scoped_headers_and_the_live_line_is_polite(
        self, gateway: RunningService
    ) -> None:
        for path in (STATUS_PATH, "/programme/status"):
            page = get(gateway, path, format="html").text
            tables = re.findall(r"<table[^>]*>.*?</table>", page, flags=re.S)
            assert tables
            for table in tables:
                assert "<caption>" in table
                assert re.findall(r"<th(?=[\s>])(?![^>]*scope=)", table) == []
            assert 'aria-live="polite"' in page


class TestAsOf:
    def test_as_of_asks_reporting_on_the_cooperation_axis_and_no_other_service(
        self, gateway: RunningService, reporting: FakeReporting
    ) -> None:
        reporting.asked.clear()
        answer = get(gateway, format="json", as_of="2019-12-31")
        markdown = get(gateway, format="md", as_of="2019-12-31").text
        page = html_text(get(gateway, format="html", as_of="2019-12-31").text)

        assert answer.status_code == 200
        compiled = answer.json()
        assert compiled["axis"] == "cooperation"
        assert all(part["available"] for part in compiled["parts"].values())
        assert compiled["details"]["pilots"]["wm-biotech-incubator"]["description"]
        days = asked_days(reporting)
        assert days
        assert all(query == {"as_of": "2019-12-31"} for query in days)
        # From the as-of status: the cities service (this fake) names no stakeholder.
        assert compiled["details"]["cities"]["guangzhou"]["stakeholders"]
        for text in (markdown, page):
            assert "cooperation's own time" in text
            assert "as of 2019-12-31" in text.split("Data as of", 1)[1]
            assert missing(facts_of(compiled["status"]), text) == []

    def test_recorded_as_of_is_passed_on_as_recorded(
        self, gateway: RunningService, reporting: FakeReporting
    ) -> None:
        reporting.asked.clear()
        answer = get(gateway, format="json", recorded_as_of="2019-12-31")

        assert answer.status_code == 200
        assert answer.json()["axis"] == "recorded"
        assert asked_days(reporting) == [{"recorded_as_of": "2019-12-31"}]
        assert "Status as recorded" in get(gateway, format="md", recorded_as_of="2019-12-31").text

    def test_both_days_are_one_422_in_the_one_error_body(self, gateway: RunningService) -> None:
        answer = get(gateway, format="json", as_of="2019-12-31", recorded_as_of="2019-12-31")

        assert answer.status_code == 422
        body = answer.json()
        assert set(body) == {"error", "detail"}
        assert body["detail"][0]["loc"] == ["query", "recorded_as_of"]

    def test_with_pilots_and_mous_refused_as_of_and_live_both_answer(
        self, gateway: RunningService
    ) -> None:
        live = get(gateway, format="json")
        as_of = get(gateway, format="json", as_of="2019-12-31")

        assert live.status_code == as_of.status_code == 200
        assert live.json()["parts"]["pilots"]["available"] is False
        assert "pilots" in live.json()["parts"]["pilots"]["reason"]
        assert "Parts unavailable" in get(gateway, format="md").text
        assert as_of.json()["parts"]["pilots"]["available"] is True

    def test_reporting_failing_an_as_of_answer_is_a_503_not_a_500(
        self, gateway: RunningService, reporting: FakeReporting
    ) -> None:
        reporting.failing_as_of = True
        try:
            answer = get(gateway, format="html", as_of="2019-12-31")
        finally:
            reporting.failing_as_of = False

        assert answer.status_code == 503
        assert answer.json()["error"] == "status_unavailable"


class TestProgrammePage:
    def test_shows_the_lead_city_by_name_and_draws_its_pilots(
        self, gateway: RunningService
    ) -> None:
        page = get(gateway, "/programme/status", format="html").text
        markdown = get(gateway, "/programme/status", format="md").text

        assert "<td>West Midlands</td>" in page
        assert "| West Midlands |" in markdown
        assert "west-midlands" not in html_text(page)
        assert 'id="programme-pilots-chart"' in page
        assert '<th scope="row">in progress</th><td>1</td>' in page


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make tools)")
class TestScreenshots:
    """Kept in .artifacts/screenshots/ for a person to look at."""

    @pytest.mark.parametrize(
        ("name", "path", "pictures", "longer_than"),
        [
            (
                "sample-status",
                f"{STATUS_PATH}?format=html",
                ["timeline-chart", "pilots-chart", "indicators-chart"],
                WINDOW_HEIGHT,
            ),
            (
                "sample-programme",
                "/programme/status?format=html",
                ["programme-pilots-chart", "programme-ucaps-chart"],
                0,
            ),
        ],
    )
    def test_the_page_in_chromium_is_drawn_whole_with_its_pictures_named(
        self,
        gateway: RunningService,
        name: str,
        path: str,
        pictures: list[str],
        longer_than: int,
    ) -> None:
        with browser_page() as page:
            page.open(f"{gateway.url}{path}", gateway.headers)
            page.wait_for(lambda text: "West Midlands" in text, timeout=30)
            labels = picture_labels(page)
            shot, (width, height) = whole_page(page, name)
            page.call("Emulation.setEmulatedMedia", media="print")
            printed = picture_labels(page)

        png = read_png(shot)
        assert (png.width, png.height) == (width, height)
        assert height > longer_than, "the whole page, beyond the window"
        assert png.distinct_bytes > 50, "not a blank page"
        assert [label["id"] for label in labels] == pictures
        for label in labels:
            title, desc = label["labels"]
            assert title, label
            assert desc, label
            assert label["shown"]
        assert all(label["shown"] for label in printed), "printed too"
