"""A city's kind, and organisations with no city, against the real Kafka and MongoDB-protocol
server; and what consumers of the cities topic do with the organisation events."""

import json
from functools import partial
from typing import Any

import httpx
import pytest

from tests.services.cities.conftest import CitiesService, city_body, new_id
from tests.support.auth import bearer, reader
from tests.support.kafka_reading import read_topic
from tests.support.waiting import eventually
from ucap_cities.domain import fold
from ucap_cities.events import CityKind, CityProfileUpdated, CityRegistered
from ucap_shared.dispatch import Handlers, UnknownEventType, resolve
from ucap_shared.envelope import Envelope
from ucap_shared.topics import events_topic


def fund_body(organisation_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation_id": organisation_id,
        "name": "UK-China Biotech Fund",
        "kind": "other",
        "scope": "international",
    }
    return {**body, **overrides}


def invalid_fields(response: httpx.Response) -> list[list[str | int]]:
    assert response.status_code == 422, response.text
    return [problem["loc"] for problem in response.json()["detail"]]


async def published(cities: CitiesService, key: str, count: int = 1) -> list[dict[str, Any]] | None:
    topic = events_topic(cities.isolation.service_name)
    bootstrap = cities.app.state.runtime.settings.kafka_bootstrap_servers
    records = await read_topic(bootstrap, topic)
    events = [json.loads(r.value) for r in records if r.key == key.encode()]
    return events if len(events) >= count else None


class TestCityKind:
    async def test_tianfu_new_district_is_a_new_area_in_the_view_and_the_event(
        self, cities: CitiesService
    ) -> None:
        tianfu = new_id("tianfu-new-district")
        body = city_body(tianfu, name="Tianfu New District", native_name="天府新区")

        created = await cities.client.post("/cities", json={**body, "kind": "new_area"})

        assert created.status_code == 201, created.text
        assert created.json()["kind"] == "new_area"
        assert (await cities.client.get(f"/cities/{tianfu}")).json()["kind"] == "new_area"
        [event] = await eventually(partial(published, cities, tianfu), timeout=30)
        assert event["data"]["kind"] == "new_area"

    async def test_a_city_is_a_city_unless_told_and_its_kind_changes(
        self, cities: CitiesService
    ) -> None:
        west_midlands = new_id("west-midlands")
        created = await cities.client.post("/cities", json=city_body(west_midlands))

        changed = await cities.client.patch(
            f"/cities/{west_midlands}", json={"kind": "combined_authority"}
        )
        cleared = await cities.client.patch(f"/cities/{west_midlands}", json={"kind": None})
        unknown = await cities.client.patch(f"/cities/{west_midlands}", json={"kind": "village"})

        assert created.json()["kind"] == "city"
        assert changed.json()["kind"] == "combined_authority"
        assert invalid_fields(cleared) == [["body", "kind"]]
        assert invalid_fields(unknown) == [["body", "kind"]]
        events = await eventually(partial(published, cities, west_midlands, 2), timeout=30)
        assert events[1]["type"] == "ucap.city.profile_updated.v1"
        assert events[1]["data"] == {"city_id": west_midlands, "kind": "combined_authority"}

    def test_events_without_a_kind_read_as_a_city(self) -> None:
        old = CityRegistered.model_validate(
            {
                "city_id": "granada",
                "name": "Granada",
                "native_name": None,
                "region": None,
                "country": "ES",
                "world_region": "Europe",
                "population": {"known": False},
                "area_km2": None,
                "clusters": [],
            }
        )
        renamed = CityProfileUpdated.model_validate({"city_id": "granada", "name": "Granada"})
        city = fold([old, renamed])
        assert city is not None
        assert city.kind is CityKind.CITY
        assert "kind" not in renamed.model_dump()


class TestOrganisations:
    async def test_the_uk_china_biotech_fund_is_registered_read_listed_and_published(
        self, cities: CitiesService
    ) -> None:
        fund = new_id("uk-china-biotech-fund")

        created = await cities.client.post("/organisations", json=fund_body(fund))
        read = await cities.client.get(f"/organisations/{fund}")
        listed = await cities.client.get(
            "/organisations", params={"scope": "international", "limit": 200}
        )

        assert created.status_code == 201, created.text
        document = read.json()
        assert {k: document[k] for k in fund_body(fund)} == fund_body(fund)
        assert (document["native_name"], document["country"], document["website"]) == (
            None,
            None,
            None,
        )
        assert document["version"] == 1
        assert fund in [item["organisation_id"] for item in listed.json()["items"]]
        [event] = await eventually(partial(published, cities, fund), timeout=30)
        assert event["type"] == "ucap.organisation.registered.v1"
        assert event["subject"] == fund
        assert event["data"] == {
            "organisation_id": fund,
            "name": "UK-China Biotech Fund",
            "native_name": None,
            "kind": "other",
            "scope": "international",
            "country": None,
            "website": None,
        }

    async def test_a_national_one_needs_its_country(self, cities: CitiesService) -> None:
        ccud = new_id("ccud")
        national = fund_body(ccud, name="China Center for Urban Development", scope="national")

        without = await cities.client.post("/organisations", json=national)
        bad_country = await cities.client.post("/organisations", json={**national, "country": "XX"})
        withal = await cities.client.post("/organisations", json={**national, "country": "CN"})

        assert invalid_fields(without) == [["body", "country"]]
        assert invalid_fields(bad_country) == [["body", "country"]]
        assert withal.status_code == 201, withal.text
        assert withal.json()["country"] == "CN"

    async def test_an_id_taken_by_an_organisation_or_a_city_is_409(
        self, cities: CitiesService
    ) -> None:
        fund, city = new_id("fund"), new_id("city")
        await cities.client.post("/organisations", json=fund_body(fund))
        await cities.client.post("/cities", json=city_body(city))

        again = await cities.client.post("/organisations", json=fund_body(fund))
        a_city = await cities.client.post("/organisations", json=fund_body(city))
        an_organisation = await cities.client.post("/cities", json=city_body(fund))

        assert [again.status_code, a_city.status_code, an_organisation.status_code] == [409] * 3
        assert (await cities.client.get(f"/cities/{fund}")).status_code == 404
        assert (await cities.client.get(f"/cities/{fund}/history")).status_code == 404
        assert (await cities.client.get(f"/organisations/{city}")).status_code == 404

    async def test_an_unknown_one_is_404_and_a_reader_may_not_register(
        self, cities: CitiesService
    ) -> None:
        missing = await cities.client.get(f"/organisations/{new_id('nobody')}")
        refused = await cities.client.post(
            "/organisations",
            json=fund_body(new_id("fund")),
            headers=bearer("cities", reader()),
        )

        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"
        assert refused.status_code == 403

    async def test_pages_follow_the_cursor(self, cities: CitiesService) -> None:
        ids = sorted(new_id("paged") for _ in range(3))
        for organisation_id in ids:
            await cities.client.post("/organisations", json=fund_body(organisation_id))
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await cities.client.get("/organisations", params=params)).json()
            seen += [item["organisation_id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [i for i in seen if i in ids] == ids
        assert seen == sorted(seen)


class TestConsumersOfTheCitiesTopic:
    """Pilots and reporting read the cities topic under the ``ucap.city.`` prefix."""

    @pytest.mark.parametrize("namespace", ["ucap", "ucap-e2e-1a2b"])
    def test_an_organisation_event_is_skipped_not_an_unknown_type(self, namespace: str) -> None:
        handlers = Handlers(events_topic("cities", within=namespace), "ucap.city.")
        organisation = Envelope(
            source="ucap/cities",
            type="ucap.organisation.registered.v1",
            subject="uk-china-biotech-fund",
            sequence=1,
            data={},
            actor="test",
        )
        assert resolve(handlers, organisation) is None

    def test_a_type_from_another_source_is_still_unknown(self) -> None:
        handlers = Handlers(events_topic("cities"), "ucap.city.")
        stray = Envelope(
            source="ucap/pilots",
            type="ucap.organisation.registered.v1",
            subject="x",
            sequence=1,
            data={},
            actor="test",
        )
        with pytest.raises(UnknownEventType):
            resolve(handlers, stray)
