"""The Granada U-CAP, loaded through the gateway, comes back out of it, live."""

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser import browser_page, chromium
from tests.support.stack import Stack, load_granada, running_stack
from tests.support.waiting import polled

# Facts of ../shared/domain/ucap-summary-granada.txt, as the status must show them.
FACTS = [
    "Granada",
    "Andalusia",
    "236 000",
    "88 km²",
    "June 2018 – November 2020",
    "Culture, Tourism and Education",
    "Life Sciences and Healthy City",
    "Smart City and Digital Transition",
    "SDG 3: Good Health and Well-Being",
    "SDG 4: Quality Education",
    "SDG 9: Industry, Innovation and Infrastructure",
    "SDG 11: Sustainable Cities and Communities",
    "EU Urban Agenda Theme: Culture/Cultural Heritage",
    "EU Urban Agenda Theme: Digital Transition",
    "Internationalisation of Granada start-up",
    "Launch concrete cooperation projects",
    "Haikou",
    "Kunming",
    "Liuzhou",
    "Zhengzhou",
]
TIMELINE = [
    "July 2018",
    "September 2018",
    "November 2018",
    "April 2019",
    "June 2019",
    "September 2019",
    "November 2019",
    "March 2020",
    "April 2020",
    "May 2020",
    "June 2020",
]


@pytest.fixture(scope="module")
def granada(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    log_dir: Path = tmp_path_factory.mktemp("e2e-logs")
    with running_stack(service_env, log_dir) as stack:
        load_granada(stack.url, stack.env)
        yield stack


def status(stack: Stack, fmt: str = "md", **params: str) -> httpx.Response:
    return httpx.get(
        f"{stack.url}/ucaps/granada-ucap/status",
        params={"format": fmt, **params},
        headers=stack.headers,
        timeout=30,
    )


def eventually_text(stack: Stack, wanted: str, fmt: str = "md", timeout: float = 60) -> str:
    text = polled(
        lambda: status(stack, fmt).text, lambda text: wanted in text, timeout=timeout, interval=0.5
    )
    assert wanted in text, f"{wanted!r} never appeared in:\n{text}"
    return text


class TestGranadaStatus:
    def test_the_markdown_holds_every_fact_of_the_summary(self, granada: Stack) -> None:
        text = eventually_text(granada, "blockchain")

        missing = [fact for fact in FACTS if fact not in text]
        assert missing == []
        timeline = text.split("### Main activities", 1)[1].split("### Expected", 1)[0]
        assert [month for month in TIMELINE if f"**{month}**" in timeline] == TIMELINE
        assert "gold" in text

    def test_each_pilot_stands_under_its_counterpart_city(self, granada: Stack) -> None:
        text = eventually_text(granada, "blockchain")
        results = text.split("### Expected results", 1)[1]
        sections = dict(re.findall(r"#### ([^\n]+)\n(.*?)(?=\n#### |\n### |\Z)", results, re.S))

        assert "Ciba" in sections["Kunming"]
        assert "delegation" in sections["Liuzhou"].lower()
        assert "health park" in sections["Haikou"].lower()
        assert "smart city" in sections["Zhengzhou"].lower()

    def test_json_and_html_carry_the_same_status(self, granada: Stack) -> None:
        eventually_text(granada, "blockchain")
        as_json = status(granada, "json").json()
        page = status(granada, "html")

        assert as_json["ucap_id"] == "granada-ucap"
        assert all(part["available"] for part in as_json["parts"].values())
        assert page.headers["content-type"].startswith("text/html")
        assert "236 000" in page.text
        assert "SDG 11: Sustainable Cities and Communities" in page.text

    def test_an_unchanged_status_answers_304_to_its_etag(self, granada: Stack) -> None:
        eventually_text(granada, "blockchain")
        first = status(granada, "json")
        again = httpx.get(
            f"{granada.url}/ucaps/granada-ucap/status",
            params={"format": "json"},
            headers={**granada.headers, "If-None-Match": first.headers["ETag"]},
        )
        assert again.status_code == 304

    def test_as_of_shows_only_what_existed_then(self, granada: Stack) -> None:
        eventually_text(granada, "blockchain")
        today = status(granada, "json").json()
        long_ago = status(granada, "json", as_of="2019-01-01")

        assert long_ago.status_code == 200
        assert long_ago.json()["status"] != today["status"]


class TestLiveStatus:
    def test_a_progress_update_through_the_gateway_shows_in_the_status_and_on_the_feed(
        self, granada: Stack
    ) -> None:
        text = eventually_text(granada, "blockchain")
        pilot_id = re.findall(r"\((granada-[a-z0-9-]*blockchain[a-z0-9-]*)\)", text)[0]
        key = uuid.uuid4().hex[:6]
        summary = f"Webinar held live {key}"
        received: list[str] = []

        def listen() -> None:
            with httpx.stream(
                "GET",
                f"{granada.url}/ucaps/granada-ucap/live",
                headers=granada.headers,
                timeout=60,
            ) as feed:
                for line in feed.iter_lines():
                    if line.startswith("data:"):
                        received.append(line)
                        if summary in line:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert polled(lambda: received, bool, timeout=10, interval=0.1), (
            "the feed sends the status at once"
        )

        posted = httpx.post(
            f"{granada.url}/pilots/{pilot_id}/progress",
            json={"reported_on": "2020-07-15", "reporting_city_id": "granada", "summary": summary},
            headers={**granada.headers, "Idempotency-Key": f"live-{key}"},
        )
        assert posted.status_code == 201, posted.text

        eventually_text(granada, summary, timeout=30)
        listener.join(timeout=30)
        assert any(summary in line for line in received), "the feed pushed the change"


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make test installs it)")
class TestStatusPageInABrowser:
    def test_renders_the_facts_without_console_errors(self, granada: Stack, tmp_path: Path) -> None:
        eventually_text(granada, "blockchain")
        with browser_page() as page:
            page.open(f"{granada.url}/ucaps/granada-ucap/status?format=html", granada.headers)
            text = page.wait_for(lambda t: "blockchain" in t, timeout=20)
            shot = page.screenshot(tmp_path / "status.png")
            errors = list(page.console_errors)

        assert errors == []
        assert shot.stat().st_size > 10_000
        missing = [fact for fact in FACTS if fact not in text]
        assert missing == []


class TestDegraded:
    """Run last: they stop services of the module's stack.

    The status is kept compiled: an outage shows once the kept status is
    compiled again, within the gateway's refresh time (5 s) and one compile.
    """

    def test_without_the_mous_service_the_status_comes_back_marking_mous_unavailable(
        self, granada: Stack
    ) -> None:
        eventually_text(granada, "blockchain")
        granada.services["mous"].process.terminate()
        granada.services["mous"].process.wait(timeout=20)

        answer = eventually_answer(
            granada, lambda r: r.status_code == 200 and not r.json()["parts"]["mous"]["available"]
        )
        page = status(granada, "md")

        parts = answer.json()["parts"]
        assert "mous" in parts["mous"]["reason"]
        assert parts["pilots"]["available"] is True
        assert "Parts unavailable" in page.text

    def test_without_the_reporting_service_the_status_is_503_with_a_clear_body(
        self, granada: Stack
    ) -> None:
        granada.services["reporting"].process.terminate()
        granada.services["reporting"].process.wait(timeout=20)

        answer = eventually_answer(granada, lambda r: r.status_code != 200)

        assert answer.status_code == 503
        assert answer.json()["service"] == "reporting"
        assert "unavailable" in answer.json()["detail"]


def eventually_answer(
    stack: Stack, wanted: Callable[[httpx.Response], bool], timeout: float = 15
) -> httpx.Response:
    """The JSON status once ``wanted`` holds for it; the kept status follows within 5 s."""
    deadline = time.monotonic() + timeout
    while True:
        answer = status(stack, "json")
        if wanted(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"the status never changed as wanted: {answer.text[:300]}")
        time.sleep(0.2)
