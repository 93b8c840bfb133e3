"""The status and programme pages in a browser: logged in by the form, updated in place."""

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.browser import Page, browser_page, chromium
from tests.support.keys import auth, create_key
from tests.support.stack import Stack, load_granada, running_stack

pytestmark = pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed (make test installs it)"
)

UCAP = "granada-ucap"
PILOT = "granada-blockchain-webinars"
MILESTONE_PILOT = "granada-liuzhou-delegation-forum"
MILESTONE = "granada-international-forum"
STATUS_PAGE = f"/ucaps/{UCAP}/status?format=html"


@pytest.fixture(scope="module")
def granada(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with running_stack(service_env, tmp_path_factory.mktemp("live-page-logs")) as stack:
        load_granada(stack.url, stack.env)
        loaded = wait_for_markdown(stack, "blockchain")
        assert MILESTONE_PILOT in loaded
        yield stack


@pytest.fixture(scope="module")
def publisher(granada: Stack) -> dict[str, str]:
    """What Granada's own system sends: its publisher key."""
    return auth(create_key(granada.env, principal="city:granada", roles=["publisher"])["key"])


@pytest.fixture(scope="module")
def reader_key(granada: Stack) -> str:
    return create_key(granada.env, principal="iuc", roles=["reader"])["key"]


def wait_for_markdown(stack: Stack, wanted: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = httpx.get(
            f"{stack.url}/ucaps/{UCAP}/status",
            params={"format": "md"},
            headers=stack.headers,
            timeout=30,
        ).text
        if wanted in text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{wanted!r} never appeared in the status")
        time.sleep(0.5)


def log_in(page: Page, stack: Stack, key: str, next_path: str) -> str:
    """Open the log-in form, type the key, submit; the text of the page it leads to."""
    page.open(f"{stack.url}/login?{urlencode({'next': next_path})}")
    page.wait_for(lambda text: "API key" in text, timeout=20)
    page.evaluate(
        f"document.getElementById('key').value = {json.dumps(key)};"
        "document.querySelector('button[type=submit]').click();"
    )
    return page.wait_for(lambda text: "API key" not in text and "U-CAP" in text, timeout=30)


def milestones_done(programme_text: str) -> int:
    found = re.search(r"(\d+) done, \d+ due, \d+ overdue", programme_text)
    assert found, "the U-CAP's milestone figures are on the programme page"
    return int(found.group(1))


def mark_the_document(page: Page) -> None:
    """A property a navigation or reload would lose."""
    page.evaluate("window.stillTheSamePage = true")


def still_the_same_document(page: Page) -> bool:
    return page.evaluate("window.stillTheSamePage === true") is True


class TestStatusPage:
    def test_a_progress_update_appears_in_place_without_console_errors(
        self, granada: Stack, publisher: dict[str, str], reader_key: str, tmp_path: Path
    ) -> None:
        summary = f"Webinar recording published {uuid.uuid4().hex[:6]}"
        with browser_page() as page:
            log_in(page, granada, reader_key, STATUS_PAGE)
            page.wait_for(lambda text: "Three digital webinars on blockchain" in text, timeout=30)
            assert page.evaluate("location.pathname + location.search") == STATUS_PAGE
            assert "ucap_key" not in page.evaluate("document.cookie"), "the cookie is HttpOnly"
            page.wait_for(lambda text: "Live: following changes" in text, timeout=20)
            mark_the_document(page)
            scrolled = page.evaluate("window.scrollTo(0, 400); window.scrollY")

            posted = httpx.post(
                f"{granada.url}/pilots/{PILOT}/progress",
                json={
                    "reported_on": datetime.now(UTC).date().isoformat(),
                    "reporting_city_id": "granada",
                    "summary": summary,
                },
                headers={**publisher, "Idempotency-Key": f"live-page-{summary[-6:]}"},
            )
            assert posted.status_code == 201, posted.text

            text = page.wait_for(lambda t: summary in t, timeout=30)
            same = still_the_same_document(page)
            scroll_after = page.evaluate("window.scrollY")
            page.screenshot(tmp_path / "live.png")
            errors = list(page.console_errors)

        assert same, "the page changed in place: no navigation, no reload"
        assert "Live: updated " in text
        assert scroll_after == scrolled
        assert errors == []

    def test_without_javascript_the_page_is_whole_and_printing_hides_the_live_line(
        self, granada: Stack, reader_key: str
    ) -> None:
        with browser_page() as page:
            log_in(page, granada, reader_key, STATUS_PAGE)
            page.call("Emulation.setScriptExecutionDisabled", value=True)
            page.call("Page.reload")
            text = page.wait_for(lambda t: "Data as of" in t, timeout=20)
            page.call("Emulation.setEmulatedMedia", media="print")
            live_line_shown = page.call(
                "Runtime.evaluate",
                expression="getComputedStyle(document.querySelector('.live')).display",
                returnByValue=True,
            )["result"]["value"]

        assert "Three digital webinars on blockchain" in text
        assert "Kunming" in text
        assert "Live:" not in text, "no live line without the script"
        assert live_line_shown == "none"


class TestProgrammePage:
    def test_lists_each_ucap_with_figures_flags_and_a_link_and_follows_changes(
        self, granada: Stack, publisher: dict[str, str], reader_key: str
    ) -> None:
        with browser_page() as page:
            log_in(page, granada, reader_key, "/programme/status")
            first = page.wait_for(
                lambda text: "Milestone overdue: Granada International Forum" in text, timeout=30
            )
            assert page.evaluate("location.pathname") == "/programme/status"
            links = page.evaluate(
                "[...document.querySelectorAll('#ucaps a')].map(a => a.getAttribute('href'))"
            )
            page.wait_for(lambda text: "Live: following changes" in text, timeout=20)
            mark_the_document(page)

            completed = httpx.post(
                f"{granada.url}/pilots/{MILESTONE_PILOT}/milestones/{MILESTONE}/complete",
                json={"completed_on": datetime.now(UTC).date().isoformat()},
                headers=publisher,
            )
            assert completed.status_code == 200, completed.text

            after = page.wait_for(
                lambda text: "Milestone overdue: Granada International Forum" not in text,
                timeout=30,
            )
            same = still_the_same_document(page)
            errors = list(page.console_errors)

        assert links == [STATUS_PAGE]
        assert "Granada U-CAP" in first
        assert "Milestone overdue: Granada International Forum" in first
        assert milestones_done(after) == milestones_done(first) + 1
        assert same
        assert "Live: updated " in after
        assert errors == []

    def test_the_markdown_and_json_list_each_ucap_with_its_figures(self, granada: Stack) -> None:
        markdown = httpx.get(
            f"{granada.url}/programme/status", params={"format": "md"}, headers=granada.headers
        )
        as_json = httpx.get(f"{granada.url}/programme/status", headers=granada.headers).json()

        assert f"(/ucaps/{UCAP}/status?format=md)" in markdown.text
        assert re.search(r"\| Granada \| \d+ \(", markdown.text), "lead (by name) and pilots"
        assert [row["ucap_id"] for row in as_json["ucaps"]] == [UCAP]
        assert as_json["ucaps"][0]["figures"]["pilots"] == as_json["totals"]["pilots"]
