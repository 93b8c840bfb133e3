"""The Granada demo, loaded through the gateway: every fact of its status JSON is on its
Markdown and HTML pages, the pages in Chromium carry their pictures, and an as-of
status stands on its own axis and day, whichever service is down.

Screenshots are kept in .artifacts/screenshots/ (ignored by git).
"""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.browser import browser_page, chromium
from tests.support.screenshots import picture_labels, read_png, whole_page
from tests.support.stack import Stack, load_granada, running_stack
from tests.support.status_facts import facts_of, html_text, markdown_text, missing
from tests.support.waiting import polled

UCAP = "granada-ucap"
STATUS = f"/ucaps/{UCAP}/status"


@pytest.fixture(scope="module")
def granada(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with running_stack(service_env, tmp_path_factory.mktemp("every-fact-logs")) as stack:
        load_granada(stack.url, stack.env)
        yield stack


def get(stack: Stack, path: str = STATUS, **params: str) -> httpx.Response:
    return httpx.get(f"{stack.url}{path}", params=params, headers=stack.headers, timeout=30)


def loaded(stack: Stack, timeout: float = 90) -> dict[str, Any]:
    """The compiled status once every pilot of the demo is in it."""
    deadline = time.monotonic() + timeout
    while True:
        compiled: dict[str, Any] = get(stack, format="json").json()
        if "blockchain" in get(stack, format="md").text and all(
            part["available"] for part in compiled["parts"].values()
        ):
            return compiled
        if time.monotonic() > deadline:
            raise AssertionError("the Granada status never came whole")
        time.sleep(0.5)


class TestGranadaEveryFact:
    def test_each_fact_of_the_json_is_in_the_markdown_and_in_the_html(self, granada: Stack) -> None:
        status = loaded(granada)["status"]
        facts = facts_of(status)

        assert {"Kunming", "Health and Technology Science Park of Granada (PTS)"} & set(facts)
        assert len(facts) > 100
        assert missing(facts, markdown_text(get(granada, format="md").text)) == []
        assert missing(facts, html_text(get(granada, format="html").text)) == []

    def test_the_programme_names_the_lead_city(self, granada: Stack) -> None:
        loaded(granada)
        markdown = get(granada, "/programme/status", format="md").text

        assert "| Granada |" in markdown
        assert "| granada |" not in markdown

    @pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make tools)")
    @pytest.mark.parametrize(
        ("name", "path", "pictures"),
        [
            ("granada-status", STATUS, ["timeline-chart", "pilots-chart", "indicators-chart"]),
            ("granada-programme", "/programme/status", ["programme-pilots-chart"]),
        ],
    )
    def test_the_page_in_chromium_with_its_pictures(
        self, granada: Stack, name: str, path: str, pictures: list[str]
    ) -> None:
        loaded(granada)
        with browser_page() as page:
            page.open(f"{granada.url}{path}?format=html", granada.headers)
            page.wait_for(lambda text: "Granada" in text, timeout=30)
            labels = picture_labels(page)
            shot, size = whole_page(page, name)
            errors = list(page.console_errors)

        png = read_png(shot)
        assert (png.width, png.height) == size
        assert png.distinct_bytes > 50, "not a blank page"
        assert set(pictures) <= {label["id"] for label in labels}
        assert all(all(label["labels"]) and label["shown"] for label in labels), labels
        assert errors == []


class TestAsOfWithAServiceDown:
    """Run last: it stops the pilots service of the module's stack."""

    def test_as_of_and_live_both_answer_with_the_pilots_service_down(self, granada: Stack) -> None:
        loaded(granada)
        granada.services["pilots"].process.terminate()
        granada.services["pilots"].process.wait(timeout=20)
        pilots_down = polled(
            lambda: get(granada, format="json").json(),
            lambda status: not status["parts"]["pilots"]["available"],
            timeout=30,
            interval=0.3,
        )
        assert not pilots_down["parts"]["pilots"]["available"], "the live status never saw it"

        as_of = get(granada, format="json", as_of="2019-12-31")
        live = get(granada, format="md")

        assert live.status_code == 200
        assert "Parts unavailable" in live.text
        assert as_of.status_code == 200, as_of.text
        compiled = as_of.json()
        assert compiled["status"]["axis"] == "cooperation"
        activities = [a["date"] for a in compiled["status"]["ucap"]["activities"]]
        assert activities, "the 2018 and 2019 activities stood on that day"
        assert max(activities) <= "2019-12-31", "nothing after the day asked for"
        assert all(part["available"] for part in compiled["parts"].values())
        page = html_text(get(granada, format="html", as_of="2019-12-31").text)
        assert "as of 2019-12-31" in page
        assert missing(facts_of(compiled["status"]), page) == []
