"""Kept statuses through real gateways: two replicas follow a change, feeds are bounded and
end with their key, and a U-CAP of 500 pilots compiles whole."""

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.auth import bearer
from tests.support.keys import auth, create_key
from tests.support.processes import REPO_ROOT, run_service
from tests.support.stack import Stack, running_stack
from tests.support.waiting import polled, polled_async

REFRESH_SECONDS = 5.0
FEEDS_PER_KEY = 2
MANY_PILOTS = 500
GATEWAY_ENV = {
    "UCAP_GATEWAY_KEPT_REFRESH_SECONDS": str(REFRESH_SECONDS),
    "UCAP_GATEWAY_LIVE_FEEDS_PER_KEY": str(FEEDS_PER_KEY),
    "UCAP_GATEWAY_LIVE_KEY_CHECK_SECONDS": "1",
    "UCAP_GATEWAY_RATE_LIMIT_PER_SECOND": "2000",
    "UCAP_GATEWAY_RATE_LIMIT_BURST": "2000",
}


@pytest.fixture(scope="module")
def stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack({**service_env, **GATEWAY_ENV}, tmp_path_factory.mktemp("kept")) as running:
        yield running


def _city(city_id: str, country: str) -> dict[str, Any]:
    return {
        "id": city_id,
        "name": city_id.title(),
        "country": country,
        "world_region": "Europe" if country == "ES" else "Asia",
        "population": {"known": False},
        "clusters": ["Smart City"],
    }


def _ucap(ucap_id: str, lead: str, counterparts: list[str]) -> dict[str, Any]:
    return {
        "id": ucap_id,
        "title": f"U-CAP {ucap_id}",
        "lead_city_id": lead,
        "counterpart_city_ids": counterparts,
        "period": {"from": "2018-06", "until": "2020-11"},
        "themes": [{"title": "Smart City and Digital Transition", "key_focus": "Pilots"}],
        "sdgs": [11],
        "urban_agenda_themes": ["Digital Transition"],
        "key_challenges": ["Scale"],
        "main_objectives": ["Measure"],
    }


def _pilot(pilot_id: str, lead: str, partner: str, ucap_id: str) -> dict[str, Any]:
    return {
        "id": pilot_id,
        "title": f"Pilot {pilot_id}",
        "description": "A pilot of the kept-status tests",
        "lead_city_id": lead,
        "partners": [{"city_id": partner, "role": "partner"}],
        "cluster": "Smart City",
        "themes": ["Smart City and Digital Transition"],
        "sdg_goals": [11],
        "ucap_id": ucap_id,
    }


async def _until_created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> None:
    """POST until 201 (or 409: there already); a new city's view may lag a moment."""
    answer = await polled_async(
        lambda: client.post(path, json=body),
        lambda answer: answer.status_code in (201, 409),
        timeout=60,
    )
    assert answer.status_code in (201, 409), f"POST {path}: {answer.status_code} {answer.text}"


def seed_ucap(stack: Stack, pilots: int) -> tuple[str, list[str]]:
    """A lead city, two counterparts, a U-CAP and ``pilots`` pilots: the U-CAP's and pilots' ids."""
    suffix = uuid.uuid4().hex[:6]
    lead, counterparts = f"lead-{suffix}", [f"partner-{n}-{suffix}" for n in range(2)]
    ucap_id = f"ucap-{suffix}"
    pilot_ids = [f"{lead}-pilot-{n:03}" for n in range(pilots)]

    async def seed() -> None:
        async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers, timeout=30) as c:
            for city_id, country in [(lead, "ES"), *((city, "CN") for city in counterparts)]:
                await _until_created(c, "/cities", _city(city_id, country))
            await _until_created(c, "/ucaps", _ucap(ucap_id, lead, counterparts))
            slots = asyncio.Semaphore(8)

            async def propose(n: int, pilot_id: str) -> None:
                async with slots:
                    body = _pilot(pilot_id, lead, counterparts[n % 2], ucap_id)
                    await _until_created(c, "/pilots", body)

            await asyncio.gather(*(propose(n, p) for n, p in enumerate(pilot_ids)))

    asyncio.run(seed())
    return ucap_id, pilot_ids


def status_of(url: str, ucap_id: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{url}/ucaps/{ucap_id}/status", headers=headers, timeout=30)


def reporting_status(stack: Stack, ucap_id: str) -> dict[str, Any]:
    """The reporting service's own view, asked directly, not through a gateway."""
    answer = httpx.get(
        f"{stack.services['reporting'].url}/ucaps/{ucap_id}/status",
        headers=bearer("reporting"),
        timeout=30,
    )
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check()`` until true; the monotonic time it first held."""
    assert polled(check, bool, timeout=timeout, interval=0.05), f"{what} within {timeout:g}s"
    return time.monotonic()


def report_progress(stack: Stack, pilot_id: str, lead: str, summary: str) -> None:
    answer = httpx.post(
        f"{stack.url}/pilots/{pilot_id}/progress",
        json={"reported_on": "2020-07-15", "reporting_city_id": lead, "summary": summary},
        headers={**stack.headers, "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text


def shows(url: str, ucap_id: str, headers: dict[str, str], text: str) -> Callable[[], bool]:
    return lambda: text in status_of(url, ucap_id, headers).text


class TestTwoReplicas:
    def test_a_change_reaches_the_kept_status_of_both_within_the_refresh_time(
        self, stack: Stack, tmp_path: Path
    ) -> None:
        ucap_id, pilots = seed_ucap(stack, 2)
        lead = pilots[0].split("-pilot-")[0]
        with run_service("gateway", stack.env, tmp_path) as second:
            urls = [stack.url, second.url]
            wait_for(
                lambda: all(
                    status_of(url, ucap_id, stack.headers).json()["status"]["figures"]["pilots"]
                    == 2
                    for url in urls
                ),
                60,
                "both replicas keep the U-CAP with its 2 pilots",
            )
            summary = f"Kept on both {uuid.uuid4().hex[:6]}"

            report_progress(stack, pilots[0], lead, summary)
            in_view = wait_for(
                lambda: summary in str(reporting_status(stack, ucap_id)),
                60,
                "the reporting view shows the update",
            )
            shown = [
                wait_for(shows(url, ucap_id, stack.headers, summary), REFRESH_SECONDS + 10, url)
                for url in urls
            ]

        behind = [moment - in_view for moment in shown]
        print(f"kept status behind the reporting view: {', '.join(f'{b:.2f} s' for b in behind)}")
        assert max(behind) <= REFRESH_SECONDS + 2

    def test_an_unchanged_kept_status_answers_304_to_its_etag_in_each_format(
        self, stack: Stack
    ) -> None:
        ucap_id, _ = seed_ucap(stack, 1)
        for fmt in ("json", "md", "html"):
            first = httpx.get(
                f"{stack.url}/ucaps/{ucap_id}/status",
                params={"format": fmt},
                headers=stack.headers,
                timeout=30,
            )
            again = httpx.get(
                f"{stack.url}/ucaps/{ucap_id}/status",
                params={"format": fmt},
                headers={**stack.headers, "If-None-Match": first.headers["etag"]},
                timeout=30,
            )
            assert first.status_code == 200
            assert again.status_code == 304
            assert again.headers["etag"] == first.headers["etag"]


class TestLiveFeeds:
    def test_feeds_beyond_the_bound_per_key_are_refused_with_429(self, stack: Stack) -> None:
        ucap_id, _ = seed_ucap(stack, 1)
        key = create_key(stack.env, principal="iuc", roles=["reader"])["key"]
        url = f"{stack.url}/ucaps/{ucap_id}/live"
        with httpx.Client(headers=auth(key), timeout=30) as client:
            feeds = [client.stream("GET", url) for _ in range(FEEDS_PER_KEY)]
            opened = [feed.__enter__() for feed in feeds]
            try:
                assert [answer.status_code for answer in opened] == [200] * FEEDS_PER_KEY
                refused = client.get(url)
                assert refused.status_code == 429
                assert refused.json()["error"] == "too_many_requests"
                assert "live feeds" in refused.json()["detail"]
            finally:
                for feed in feeds:
                    feed.__exit__(None, None, None)
            admitted = wait_for(
                lambda: _opens(client, url), 15, "a feed is admitted again once others closed"
            )
        assert admitted

    def test_a_revoked_keys_feed_ends_within_seconds(self, stack: Stack) -> None:
        ucap_id, _ = seed_ucap(stack, 1)
        created = create_key(stack.env, principal="iuc", roles=["reader"])
        lines: list[str] = []
        ended = threading.Event()

        def listen() -> None:
            with httpx.stream(
                "GET", f"{stack.url}/ucaps/{ucap_id}/live", headers=auth(created["key"]), timeout=60
            ) as feed:
                for line in feed.iter_lines():
                    lines.append(line)
            ended.set()

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        wait_for(lambda: any(line.startswith("data:") for line in lines), 30, "the first status")
        revoked = subprocess.run(
            [sys.executable, "-m", "ucap_ops", "keys", "revoke", created["key_id"]],
            env=stack.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "revoked" in revoked.stdout
        revoked_at = time.monotonic()

        assert ended.wait(timeout=15), "the feed of a revoked key did not end"
        assert time.monotonic() - revoked_at < 10
        assert "event: end" in lines

    def test_one_change_reaches_every_viewer(self, stack: Stack) -> None:
        ucap_id, pilots = seed_ucap(stack, 1)
        lead = pilots[0].split("-pilot-")[0]
        viewers = 8
        keys = [
            create_key(stack.env, principal="iuc", roles=["reader"])["key"]
            for _ in range(viewers // FEEDS_PER_KEY)
        ]
        summary = f"Seen by all {uuid.uuid4().hex[:6]}"
        got = [threading.Event() for _ in range(viewers)]
        started = [threading.Event() for _ in range(viewers)]

        def listen(n: int) -> None:
            headers = auth(keys[n // FEEDS_PER_KEY])
            with httpx.stream(
                "GET", f"{stack.url}/ucaps/{ucap_id}/live", headers=headers, timeout=60
            ) as feed:
                for line in feed.iter_lines():
                    if line.startswith("data:"):
                        started[n].set()
                        if summary in line:
                            got[n].set()
                            return

        threads = [threading.Thread(target=listen, args=(n,), daemon=True) for n in range(viewers)]
        for thread in threads:
            thread.start()
        assert all(event.wait(timeout=30) for event in started)

        report_progress(stack, pilots[0], lead, summary)

        assert all(event.wait(timeout=30) for event in got)


def _opens(client: httpx.Client, url: str) -> bool:
    with client.stream("GET", url) as answer:
        return answer.status_code == 200


class TestManyPilots:
    def test_a_ucap_of_500_pilots_compiles_whole(self, stack: Stack) -> None:
        ucap_id, pilots = seed_ucap(stack, MANY_PILOTS)

        def whole() -> bool:
            status = status_of(stack.url, ucap_id, stack.headers).json()
            return bool(
                status["status"]["figures"]["pilots"] == MANY_PILOTS
                and len(status["details"]["pilots"]) == MANY_PILOTS
            )

        wait_for(whole, 120, f"the status holds all {MANY_PILOTS} pilots")
        status = status_of(stack.url, ucap_id, stack.headers).json()
        assert sorted(status["details"]["pilots"]) == sorted(pilots)
        assert status["parts"]["pilots"]["available"] is True
