"""The consolidated status, fed by real city, MoU and pilot events on their topics."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.services.reporting.conftest import ReportingService, fresh
from tests.support.waiting import eventually
from ucap_shared.topics import events_topic

# The session's namespace (tests/conftest.py sets it before this module is imported).
PILOTS_TOPIC = events_topic("pilots")


def freshness_of(body: dict[str, Any], topic: str) -> dict[str, Any]:
    return next(f for f in body["freshness"] if f["topic"] == topic)


def pilots_of(body: dict[str, Any], counterpart: int = 0) -> list[dict[str, Any]]:
    pilots: list[dict[str, Any]] = body["counterparts"][counterpart]["pilots"]
    return pilots


async def ucap_with_cities(reporting: ReportingService) -> tuple[str, str, str]:
    s = reporting.streams
    lead, counterpart = fresh("granada"), fresh("kunming")
    await reporting.publish(
        s.city_registered(lead, "Granada", "ES", ["Smart City"]),
        s.city_registered(counterpart, "Kunming", "CN"),
    )
    ucap_id = fresh("ucap")
    await reporting.create(ucap_id, lead, [counterpart], themes=[{"title": fresh("theme")}])
    return ucap_id, lead, counterpart


class TestPilotProgress:
    async def test_a_progress_update_shows_and_the_freshness_moves(
        self, reporting: ReportingService
    ) -> None:
        s = reporting.streams
        ucap_id, lead, counterpart = await ucap_with_cities(reporting)
        pilot = fresh("pilot")
        await reporting.publish(
            s.pilot_proposed(pilot, ucap_id, lead, [counterpart]),
            s.pilot_status(pilot, "approved", "approved", "2020-01"),
            s.pilot_status(pilot, "started", "in_progress", "2020-02"),
        )
        before = await reporting.wait_status(
            ucap_id, lambda b: [p["status"] for p in pilots_of(b)] == ["in_progress"]
        )
        assert pilots_of(before)[0]["stale"] is True
        seen_before = freshness_of(before, PILOTS_TOPIC)["last_event_time"]
        today = datetime.now(UTC).date().isoformat()
        await reporting.publish(s.pilot_progress(pilot, fresh("u"), today, counterpart, "Launched"))
        after = await reporting.wait_status(
            ucap_id, lambda b: pilots_of(b)[0]["last_update"] is not None
        )
        (shown,) = pilots_of(after)
        assert shown["last_update"]["summary"] == "Launched"
        assert shown["last_update"]["reporting_city_id"] == counterpart
        assert shown["stale"] is False
        assert shown["iati_status"]["code"] == 2
        assert after["figures"]["share_pilots_updated_90_days"] == 1.0
        fresh_after = freshness_of(after, PILOTS_TOPIC)
        assert fresh_after["last_event_time"] > seen_before
        assert isinstance(fresh_after["lag"], int)


class TestCityRenamed:
    async def test_a_renamed_counterpart_is_renamed_in_the_status(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, _, counterpart = await ucap_with_cities(reporting)
        await reporting.wait_status(
            ucap_id, lambda b: b["counterparts"][0]["city"]["name"] == "Kunming"
        )
        await reporting.publish(reporting.streams.city_renamed(counterpart, "Kunming City"))
        body = await reporting.wait_status(
            ucap_id, lambda b: b["counterparts"][0]["city"]["name"] == "Kunming City"
        )
        assert body["counterparts"][0]["city"]["country"] == "CN"


class TestMousAndFlags:
    async def test_mous_between_lead_and_counterpart_show_with_status_and_flags(
        self, reporting: ReportingService
    ) -> None:
        s = reporting.streams
        ucap_id, lead, counterpart = await ucap_with_cities(reporting)
        soon = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
        mou, unrelated = fresh("mou"), fresh("mou")
        pilot = fresh("pilot")
        await reporting.publish(
            s.mou_drafted(mou, [lead, counterpart], valid_until=soon),
            s.mou_signed(mou, lead, "2018-09"),
            s.mou_signed(mou, counterpart, "2018-09"),
            s.mou_drafted(unrelated, [counterpart, fresh("other")]),
            s.pilot_proposed(pilot, ucap_id, lead, [counterpart]),
            s.milestone_added(pilot, "m1", "2019-01"),
        )
        body = await reporting.wait_status(
            ucap_id,
            lambda b: (
                b["figures"]["mous_signed"] == 1 and b["figures"]["milestones"]["overdue"] == 1
            ),
        )
        (shown,) = body["counterparts"][0]["mous"]
        assert shown["mou_id"] == mou
        assert shown["status"] == "in_force"
        assert shown["signed_on"] == "2018-09"
        assert [m["mou_id"] for m in body["flags"]["expiring_mous"]] == [mou]
        assert [m["milestone_id"] for m in body["flags"]["overdue_milestones"]] == ["m1"]


class TestProgramme:
    async def test_the_programme_counts_the_ucaps_of_a_theme(
        self, reporting: ReportingService
    ) -> None:
        s = reporting.streams
        ucap_id, lead, counterpart = await ucap_with_cities(reporting)
        theme = (await reporting.client.get(f"/ucaps/{ucap_id}")).json()["themes"][0]["title"]
        await reporting.publish(s.pilot_proposed(fresh("pilot"), ucap_id, lead, [counterpart]))
        await reporting.wait_status(ucap_id, lambda b: b["figures"]["pilots"] == 1)

        async def programme() -> dict[str, Any] | None:
            response = await reporting.client.get("/programme/status", params={"theme": theme})
            body: dict[str, Any] = response.json()
            return body if body["totals"]["pilots"] == 1 else None

        body = await eventually(programme, timeout=30)
        assert body["totals"]["ucaps"] == 1
        assert body["totals"]["pilots_by_status"] == {"proposed": 1}
        assert [g["key"] for g in body["by_theme"]] == [theme]
        assert {g["key"] for g in body["by_country"]} == {"CN", "ES"}
        assert "Smart City" in {g["key"] for g in body["by_cluster"]}
        assert {f["topic"] for f in body["freshness"]} >= {PILOTS_TOPIC}
        empty = await reporting.client.get(
            "/programme/status", params={"theme": theme, "country": "FR"}
        )
        assert empty.json()["totals"]["ucaps"] == 0


class TestStatusAsOf:
    async def test_the_status_recorded_as_of_today_leaves_out_later_events(
        self, reporting: ReportingService
    ) -> None:
        s = reporting.streams
        ucap_id, lead, counterpart = await ucap_with_cities(reporting)
        pilot = fresh("pilot")
        proposed = s.pilot_proposed(pilot, ucap_id, lead, [counterpart])
        started = s.pilot_status(pilot, "started", "in_progress", None).model_copy(
            update={"time": datetime.now(UTC) + timedelta(days=2)}
        )
        await reporting.publish(proposed, started)
        live = await reporting.wait_status(
            ucap_id, lambda b: [p["status"] for p in pilots_of(b)] == ["in_progress"]
        )
        assert live["counterparts"][0]["city"]["name"] == "Kunming"
        today = datetime.now(UTC).date().isoformat()
        then = await reporting.status(ucap_id, recorded_as_of=today)
        assert then["axis"] == "recorded"
        assert [p["status"] for p in pilots_of(then)] == ["proposed"]
        assert then["counterparts"][0]["city"]["name"] == "Kunming"
        assert then["ucap"] == live["ucap"]


class TestConditionalRead:
    """The live status answers 304 to its own ETag while nothing it is built from moved."""

    async def test_304_while_unchanged_then_200_with_another_etag_after_a_change(
        self, reporting: ReportingService
    ) -> None:
        ucap_id, _, counterpart = await ucap_with_cities(reporting)
        await reporting.wait_status(
            ucap_id, lambda b: b["counterparts"][0]["city"]["name"] == "Kunming"
        )
        path = f"/ucaps/{ucap_id}/status"

        async def unchanged_etag() -> str | None:
            # Other tests' events still arriving move the freshness, and so the ETag.
            etag = (await reporting.client.get(path)).headers["etag"]
            again = await reporting.client.get(path, headers={"If-None-Match": etag})
            return etag if again.status_code == 304 and again.content == b"" else None

        etag = await eventually(unchanged_etag, timeout=30)
        assert etag.startswith('"')

        await reporting.publish(reporting.streams.city_renamed(counterpart, "Kunming City"))

        async def renamed() -> httpx.Response | None:
            answer = await reporting.client.get(path, headers={"If-None-Match": etag})
            if answer.status_code != 200:
                return None
            return answer if answer.json()["counterparts"][0]["city"]["name"] != "Kunming" else None

        answer = await eventually(renamed, timeout=30)
        assert answer.json()["counterparts"][0]["city"]["name"] == "Kunming City"
        assert answer.headers["etag"] not in ("", etag)
