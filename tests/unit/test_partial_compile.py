"""A kept status compiled again after events fetches only the parts those events can change."""

from collections.abc import Sequence
from typing import Any

import httpx

from ucap_gateway.compose import CompiledStatus, compile_status, recompile_status
from ucap_gateway.upstreams import Upstreams

Document = dict[str, Any]


def reported(counterparts: list[str], *, applied: int = 1) -> Document:
    city = {"city_id": "granada", "registered": True}
    return {
        "ucap_id": "granada-ucap",
        "on": "2026-01-01",
        "ucap": {
            "ucap_id": "granada-ucap",
            "title": "Granada",
            "lead_city_id": "granada",
            "counterpart_city_ids": counterparts,
            "period": None,
            "themes": [],
            "sdgs": [],
            "urban_agenda_themes": [],
            "key_challenges": [],
            "main_objectives": [],
            "expected_results": None,
            "contact": None,
            "deliverables": [],
            "activities": [],
        },
        "lead_city": city,
        "counterparts": [],
        "other_pilots": [],
        "figures": {
            "pilots": 0,
            "pilots_by_status": {},
            "mous_signed": 0,
            "activities_per_year": {},
            "milestones": {"done": 0, "due": 0, "overdue": 0},
            "share_pilots_updated_90_days": None,
        },
        "flags": {"overdue_milestones": [], "stale_pilots": [], "expiring_mous": []},
        "freshness": [],
        "applied": {"pilot:p1": applied},
    }


class Services(Upstreams):
    """Answers as the four services would, and notes which were asked."""

    def __init__(self) -> None:
        super().__init__({}, timeout=1, signing_key="test", token_ttl=60)
        self.asked: list[str] = []
        self.counterparts = ["haikou"]
        self.progress = "first"

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: httpx.QueryParams | None = None,
        headers: Sequence[tuple[bytes, bytes]] = (),
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        self.asked.append(service)
        if service == "reporting":
            return httpx.Response(200, json=reported(self.counterparts))
        if service == "pilots":
            pilot = {"id": "p1", "lead_city_id": "granada", "progress": self.progress}
            return httpx.Response(200, json={"items": [pilot], "next_cursor": None})
        if service == "mous":
            return httpx.Response(200, json={"items": [{"id": "m1"}], "next_cursor": None})
        return httpx.Response(200, json={"id": path.rsplit("/", 1)[-1]})


async def whole(services: Services) -> CompiledStatus:
    compiled = await compile_status(services, "granada-ucap", as_of=None, timeout=1)
    services.asked.clear()
    return compiled


class TestRecompile:
    async def test_a_pilot_event_fetches_reporting_and_the_pilots_only(self) -> None:
        services = Services()
        kept = await whole(services)
        services.progress = "second"

        again = await recompile_status(services, kept, frozenset({"pilot"}), timeout=1)

        assert sorted(services.asked) == ["pilots", "reporting"]
        assert again.details.pilots["p1"]["progress"] == "second"
        assert again.details.mous == kept.details.mous
        assert again.details.cities == kept.details.cities
        assert all(part.available for part in again.parts.values())

    async def test_a_ucaps_own_event_fetches_every_part(self) -> None:
        services = Services()
        kept = await whole(services)

        await recompile_status(services, kept, frozenset({"ucap"}), timeout=1)

        assert {"reporting", "pilots", "mous", "cities"} <= set(services.asked)

    async def test_other_cities_fetch_every_part_whatever_the_event(self) -> None:
        services = Services()
        kept = await whole(services)
        services.counterparts = ["haikou", "chengdu"]

        again = await recompile_status(services, kept, frozenset({"pilot"}), timeout=1)

        assert {"reporting", "pilots", "mous", "cities"} <= set(services.asked)
        assert set(again.details.cities) == {"granada", "haikou", "chengdu"}

    async def test_a_part_missing_from_the_kept_status_is_fetched_again(self) -> None:
        services = Services()
        kept = await whole(services)
        missing = kept.model_copy(
            update={
                "parts": {
                    **kept.parts,
                    "mous": kept.parts["mous"].model_copy(
                        update={"available": False, "reason": "the mous service: away"}
                    ),
                }
            }
        )

        await recompile_status(services, missing, frozenset({"pilot"}), timeout=1)

        assert sorted(services.asked) == ["mous", "pilots", "reporting"]
