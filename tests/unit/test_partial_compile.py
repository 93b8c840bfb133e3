"""A kept status compiled again after events fetches only the parts those events can change."""

import asyncio
from datetime import date
from typing import Any

import httpx

from tests.support.upstreams import AnsweringUpstreams
from tests.unit.test_foreign_pilots import UCAP
from ucap_gateway.compose import CompiledStatus, compile_status, recompile_status
from ucap_gateway.upstreams import UpstreamUnavailableError
from ucap_reporting.projections.documents import empty_status, with_facets
from ucap_reporting.status import status_of

Document = dict[str, Any]


class Services:
    """What the four services answer now; the upstreams note which were asked."""

    def __init__(self) -> None:
        self.counterparts = ["haikou"]
        self.progress = "first"
        self.reporting_version = 1
        self.down: set[str] = set()
        self.upstreams = AnsweringUpstreams(self.answer)

    @property
    def asked(self) -> list[str]:
        return self.upstreams.asked

    def answer(self, service: str, path: str) -> httpx.Response:
        if service in self.down:
            raise UpstreamUnavailableError(service, "unreachable", timed_out=False)
        if path == "/health/live":
            return httpx.Response(200, json={"status": "alive"})
        if service == "reporting":
            etag = f'"v{self.reporting_version}"'
            if self.upstreams.headers_sent[-1].get(b"if-none-match") == etag.encode():
                return httpx.Response(304, headers={"ETag": etag})
            ucap = {**UCAP, "counterpart_city_ids": self.counterparts}
            document = with_facets({**empty_status("granada-ucap"), "ucap": ucap})
            status = status_of(document, date(2026, 1, 1), [])
            assert status is not None
            return httpx.Response(200, json=status.model_dump(mode="json"), headers={"ETag": etag})
        if service == "pilots":
            pilot = {"id": "p1", "lead_city_id": "granada", "progress": self.progress}
            return httpx.Response(200, json={"items": [pilot], "next_cursor": None})
        if service == "mous":
            return httpx.Response(200, json={"items": [{"id": "m1"}], "next_cursor": None})
        return httpx.Response(200, json={"id": path.rsplit("/", 1)[-1]})


async def whole(services: Services) -> CompiledStatus:
    compiled = await compile_status(services.upstreams, "granada-ucap", as_of=None, timeout=1)
    services.asked.clear()
    services.upstreams.paths.clear()
    services.upstreams.headers_sent.clear()
    return compiled


async def again(services: Services, kept: CompiledStatus, *kinds: str) -> CompiledStatus:
    return await recompile_status(services.upstreams, kept, frozenset(kinds), timeout=1)


class TestRecompile:
    async def test_a_pilot_event_fetches_reporting_and_the_pilots_only(self) -> None:
        services = Services()
        kept = await whole(services)
        services.progress = "second"

        compiled = await again(services, kept, "pilot")

        assert sorted(services.asked) == ["pilots", "reporting"]
        assert compiled.details.pilots["p1"]["progress"] == "second"
        assert compiled.details.mous == kept.details.mous
        assert compiled.details.cities == kept.details.cities
        assert all(part.available for part in compiled.parts.values())

    async def test_a_ucaps_own_event_fetches_every_part(self) -> None:
        services = Services()
        kept = await whole(services)

        await again(services, kept, "ucap")

        assert {"reporting", "pilots", "mous", "cities"} <= set(services.asked)

    async def test_other_cities_fetch_every_part_whatever_the_event(self) -> None:
        services = Services()
        kept = await whole(services)
        services.counterparts, services.reporting_version = ["haikou", "chengdu"], 2

        compiled = await again(services, kept, "pilot")

        assert {"reporting", "pilots", "mous", "cities"} <= set(services.asked)
        assert set(compiled.details.cities) == {"granada", "haikou", "chengdu"}

    async def test_a_part_missing_from_the_kept_status_is_fetched_again(self) -> None:
        services = Services()
        kept = await whole(services)
        away = kept.parts["mous"].model_copy(update={"available": False, "reason": "away"})
        missing = kept.model_copy(update={"parts": {**kept.parts, "mous": away}})

        await again(services, missing, "pilot")

        assert sorted(services.asked) == ["mous", "pilots", "reporting"]


class TestRefresh:
    """A refresh no event asked for: reporting is asked whether its status changed."""

    async def test_nothing_changed_gives_the_kept_status_itself_after_304_and_probes(
        self,
    ) -> None:
        services = Services()
        kept = await whole(services)

        compiled = await again(services, kept)

        assert compiled is kept
        assert services.asked == ["reporting", "pilots", "mous", "cities"]
        assert services.upstreams.paths[1:] == ["/health/live"] * 3  # each answers still
        assert services.upstreams.headers_sent[0][b"if-none-match"] == b'"v1"'

    async def test_a_service_gone_since_is_marked_unavailable_the_others_kept(self) -> None:
        services = Services()
        kept = await whole(services)
        services.down.add("mous")

        compiled = await again(services, kept)

        assert compiled.parts["mous"].available is False
        assert "mous" in (compiled.parts["mous"].reason or "")
        assert compiled.details.pilots == kept.details.pilots
        assert compiled.status is kept.status
        assert "/pilots" not in services.upstreams.paths  # pilots only probed, not fetched

    async def test_a_change_no_event_told_of_fetches_every_part(self) -> None:
        services = Services()
        kept = await whole(services)
        services.reporting_version, services.progress = 2, "second"

        compiled = await again(services, kept)

        assert {"reporting", "pilots", "mous", "cities"} <= set(services.asked)
        assert compiled.details.pilots["p1"]["progress"] == "second"
        assert compiled.status.etag == '"v2"'

    async def test_an_event_reporting_does_not_hold_yet_fetches_its_part_on_the_kept_status(
        self,
    ) -> None:
        services = Services()
        kept = await whole(services)
        services.progress = "second"

        compiled = await again(services, kept, "pilot")

        assert sorted(services.asked) == ["pilots", "reporting"]
        assert compiled.status is kept.status
        assert compiled.details.pilots["p1"]["progress"] == "second"

    async def test_the_kept_statuses_asking_at_once_share_one_probe_per_service(self) -> None:
        services = Services()

        answers = await asyncio.gather(
            *(services.upstreams.answers("pilots", timeout=1) for _ in range(10))
        )
        again_at_once = await services.upstreams.answers("pilots", timeout=1)

        assert answers == [True] * 10
        assert again_at_once is True
        assert services.upstreams.paths == ["/health/live"]
