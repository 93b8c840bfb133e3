"""The cities HTTP API against the real Kafka and MongoDB-protocol server."""

import asyncio
from typing import Any

import httpx
from aiokafka import ConsumerRecord
from pydantic import BaseModel

from tests.services.cities.conftest import CitiesService, city_body, new_id
from tests.support.auth import ADMIN, bearer, city_publisher
from tests.support.kafka_reading import read_topic
from tests.support.waiting import eventually
from ucap_cities import schemas
from ucap_cities.organisations import api as organisations_api
from ucap_shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from ucap_shared.relay import LEASE_EPOCH_HEADER
from ucap_shared.topics import events_topic

ENVELOPE_FIELDS = {"id", "type", "sequence", "time", "actor", "data"}


async def history(client: httpx.AsyncClient, city_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/cities/{city_id}/history")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = city_body(new_id(), **overrides)
    response = await client.post("/cities", json=body)
    assert response.status_code == 201, response.text
    city: dict[str, Any] = response.json()
    return city


def invalid_fields(response: httpx.Response) -> set[tuple[str | int, ...]]:
    assert response.status_code == 422, response.text
    return {tuple(problem["loc"]) for problem in response.json()["detail"]}


class TestRegistration:
    async def test_a_registered_city_reads_back_complete(self, cities: CitiesService) -> None:
        city_id = new_id()
        body = city_body(
            city_id,
            name="Granada",
            native_name="Granada",
            region="Andalusia",
            country="ES",
            world_region="Europe",
            population={"known": True, "value": 236000, "year": 2018},
            area_km2=88,
            clusters=["Smart City", "Circular Economy"],
            stakeholders=[
                {
                    "id": "university-of-granada",
                    "name": "University of Granada",
                    "kind": "university",
                }
            ],
        )

        created = await cities.client.post("/cities", json=body)
        read = await cities.client.get(f"/cities/{city_id}")

        assert created.status_code == 201, created.text
        assert read.status_code == 200
        city = read.json()
        assert city == created.json()
        assert {k: city[k] for k in ("name", "region", "country", "world_region", "area_km2")} == {
            "name": "Granada",
            "region": "Andalusia",
            "country": "ES",
            "world_region": "Europe",
            "area_km2": 88.0,
        }
        assert city["population"] == {"known": True, "value": 236000, "year": 2018}
        assert city["clusters"] == ["Smart City", "Circular Economy"]
        assert city["stakeholders"] == [
            {
                "id": "university-of-granada",
                "name": "University of Granada",
                "kind": "university",
                "website": None,
            }
        ]
        assert city["version"] == 2

    async def test_publishes_registered_then_stakeholder_added_with_the_contract_fields(
        self, cities: CitiesService
    ) -> None:
        city = await register(
            cities.client,
            stakeholders=[
                {"id": "haikou-gov", "name": "Haikou City Government", "kind": "city_government"}
            ],
        )

        events = await history(cities.client, city["id"])

        assert [(e["type"], e["sequence"]) for e in events] == [
            ("ucap.city.registered.v1", 1),
            ("ucap.city.stakeholder_added.v1", 2),
        ]
        assert events[0]["data"] == {
            "city_id": city["id"],
            "kind": "city",
            "name": "Haikou",
            "native_name": "海口",
            "region": "Hainan",
            "country": "CN",
            "world_region": "Asia",
            "population": {"known": False, "value": None, "year": None},
            "area_km2": None,
            "clusters": ["Smart City"],
        }
        assert events[1]["data"] == {
            "city_id": city["id"],
            "stakeholder": {
                "stakeholder_id": "haikou-gov",
                "name": "Haikou City Government",
                "kind": "city_government",
                "website": None,
            },
        }

    async def test_an_id_already_registered_is_a_conflict_and_changes_nothing(
        self, cities: CitiesService
    ) -> None:
        city = await register(cities.client)

        again = await cities.client.post("/cities", json=city_body(city["id"], name="Other"))

        assert again.status_code == 409
        assert "already registered" in again.json()["detail"]
        assert len(await history(cities.client, city["id"])) == 1
        assert (await cities.client.get(f"/cities/{city['id']}")).json()["name"] == "Haikou"

    async def test_names_every_invalid_field_at_once_and_registers_nothing(
        self, cities: CitiesService
    ) -> None:
        city_id = new_id()
        body = city_body(
            city_id,
            name="",
            country="XX",
            world_region="Atlantis",
            population={"known": True, "value": 1000},
            area_km2=-3,
            clusters=["Smart City", "Smart City"],
        )

        response = await cities.client.post("/cities", json=body)

        assert invalid_fields(response) >= {
            ("body", "name"),
            ("body", "country"),
            ("body", "world_region"),
            ("body", "population"),
            ("body", "area_km2"),
            ("body", "clusters"),
        }
        assert (await cities.client.get(f"/cities/{city_id}")).status_code == 404
        assert (await cities.client.get(f"/cities/{city_id}/history")).status_code == 404

    async def test_refuses_an_id_that_is_not_a_slug_and_a_lowercase_country(
        self, cities: CitiesService
    ) -> None:
        response = await cities.client.post("/cities", json=city_body("Granada City", country="es"))

        assert invalid_fields(response) == {("body", "id"), ("body", "country")}

    async def test_refuses_stakeholders_with_a_bad_kind_and_website(
        self, cities: CitiesService
    ) -> None:
        stakeholders = [
            {"id": "a-park", "name": "A park", "kind": "park", "website": "not a url"},
            {"id": "b-co", "name": "", "kind": "company"},
        ]

        response = await cities.client.post(
            "/cities", json=city_body(new_id(), stakeholders=stakeholders)
        )

        assert invalid_fields(response) == {
            ("body", "stakeholders", 0, "kind"),
            ("body", "stakeholders", 0, "website"),
            ("body", "stakeholders", 1, "name"),
        }

    async def test_refuses_two_stakeholders_with_one_id(self, cities: CitiesService) -> None:
        stakeholders = [
            {"id": "b-co", "name": "B", "kind": "company"},
            {"id": "b-co", "name": "B again", "kind": "company"},
        ]

        response = await cities.client.post(
            "/cities", json=city_body(new_id(), stakeholders=stakeholders)
        )

        assert invalid_fields(response) == {("body", "stakeholders")}
        assert "b-co" in response.json()["detail"][0]["msg"]


class TestConcurrentRegistration:
    async def test_of_two_registrations_of_one_id_exactly_one_wins(
        self, cities: CitiesService
    ) -> None:
        city_id = new_id()

        responses = await asyncio.gather(
            cities.client.post("/cities", json=city_body(city_id, name="First")),
            cities.client.post("/cities", json=city_body(city_id, name="Second")),
        )

        assert sorted(r.status_code for r in responses) == [201, 409]
        winner = next(r for r in responses if r.status_code == 201).json()["name"]
        assert len(await history(cities.client, city_id)) == 1
        assert (await cities.client.get(f"/cities/{city_id}")).json()["name"] == winner


class TestReading:
    async def test_an_unknown_city_is_404(self, cities: CitiesService) -> None:
        response = await cities.client.get("/cities/atlantis-nowhere")

        assert response.status_code == 404
        assert response.json()["error"] == "not_found"

    async def test_history_names_the_actor_from_the_token(self, cities: CitiesService) -> None:
        city_id = new_id()
        await cities.client.post(
            "/cities", json=city_body(city_id), headers=bearer("cities", city_publisher(city_id))
        )
        await cities.client.post(
            f"/cities/{city_id}/clusters",
            json={"cluster": "Circular Economy"},
            headers={"X-UCAP-Actor": "city:somebody-else"},
        )

        events = await history(cities.client, city_id)

        assert all(set(e) == ENVELOPE_FIELDS for e in events)
        assert [(e["sequence"], e["actor"]) for e in events] == [
            (1, f"city:{city_id}"),
            (2, ADMIN.subject),
        ]


class TestProfileUpdate:
    async def test_records_only_the_fields_that_changed(self, cities: CitiesService) -> None:
        city = await register(cities.client)
        change = {
            "name": "Haikou",
            "region": "Hainan Province",
            "population": {"known": True, "value": 2873358, "year": 2020},
        }

        response = await cities.client.patch(f"/cities/{city['id']}", json=change)

        assert response.status_code == 200, response.text
        assert response.json()["region"] == "Hainan Province"
        assert response.json()["population"]["value"] == 2873358
        events = await history(cities.client, city["id"])
        assert events[-1]["type"] == "ucap.city.profile_updated.v1"
        assert events[-1]["data"] == {
            "city_id": city["id"],
            "region": "Hainan Province",
            "population": {"known": True, "value": 2873358, "year": 2020},
        }

    async def test_clearing_a_field_records_it_as_null(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        response = await cities.client.patch(f"/cities/{city['id']}", json={"native_name": None})

        assert response.json()["native_name"] is None
        last = (await history(cities.client, city["id"]))[-1]
        assert last["data"] == {"city_id": city["id"], "native_name": None}

    async def test_no_change_answers_200_and_records_nothing(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        response = await cities.client.patch(
            f"/cities/{city['id']}", json={"name": "Haikou", "country": "CN"}
        )

        assert response.status_code == 200
        assert response.json()["version"] == 1
        assert len(await history(cities.client, city["id"])) == 1

    async def test_names_every_invalid_field_at_once(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        response = await cities.client.patch(
            f"/cities/{city['id']}",
            json={"name": None, "country": "ZZ", "population": {"known": False, "year": 2020}},
        )

        assert invalid_fields(response) == {
            ("body", "name"),
            ("body", "country"),
            ("body", "population"),
        }
        assert len(await history(cities.client, city["id"])) == 1

    async def test_an_unknown_city_is_404(self, cities: CitiesService) -> None:
        response = await cities.client.patch("/cities/atlantis-nowhere", json={"name": "Atlantis"})

        assert response.status_code == 404


class TestStakeholders:
    async def test_added_then_removed(self, cities: CitiesService) -> None:
        city = await register(cities.client)
        stakeholder = {
            "id": "liudong-new-district",
            "name": "Liudong New District",
            "kind": "district_or_new_area",
            "website": "https://example.org/liudong",
        }

        added = await cities.client.post(f"/cities/{city['id']}/stakeholders", json=stakeholder)
        removed = await cities.client.delete(
            f"/cities/{city['id']}/stakeholders/liudong-new-district"
        )

        assert added.status_code == 201, added.text
        assert added.json()["stakeholders"] == [stakeholder]
        assert removed.status_code == 200
        assert removed.json()["stakeholders"] == []
        events = await history(cities.client, city["id"])
        assert events[-1]["type"] == "ucap.city.stakeholder_removed.v1"
        assert events[-1]["data"] == {
            "city_id": city["id"],
            "stakeholder_id": "liudong-new-district",
        }

    async def test_a_repeated_id_is_a_conflict(self, cities: CitiesService) -> None:
        city = await register(cities.client)
        stakeholder = {"id": "chengang-group", "name": "Chengang Group", "kind": "company"}
        await cities.client.post(f"/cities/{city['id']}/stakeholders", json=stakeholder)

        again = await cities.client.post(f"/cities/{city['id']}/stakeholders", json=stakeholder)

        assert again.status_code == 409
        assert "chengang-group" in again.json()["detail"]
        assert len(await history(cities.client, city["id"])) == 2

    async def test_removing_an_unknown_stakeholder_is_404(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        response = await cities.client.delete(f"/cities/{city['id']}/stakeholders/nobody")

        assert response.status_code == 404
        assert len(await history(cities.client, city["id"])) == 1

    async def test_adding_to_an_unknown_city_is_404(self, cities: CitiesService) -> None:
        response = await cities.client.post(
            "/cities/atlantis-nowhere/stakeholders",
            json={"id": "x-co", "name": "X", "kind": "company"},
        )

        assert response.status_code == 404


class TestClusters:
    async def test_join_then_leave(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        joined = await cities.client.post(
            f"/cities/{city['id']}/clusters", json={"cluster": "Circular Economy"}
        )
        left = await cities.client.delete(f"/cities/{city['id']}/clusters/Smart City")

        assert joined.status_code == 201
        assert joined.json()["clusters"] == ["Smart City", "Circular Economy"]
        assert left.status_code == 200
        assert left.json()["clusters"] == ["Circular Economy"]
        events = await history(cities.client, city["id"])
        assert [e["data"] for e in events[1:]] == [
            {"city_id": city["id"], "cluster": "Circular Economy"},
            {"city_id": city["id"], "cluster": "Smart City"},
        ]
        assert [e["type"] for e in events[1:]] == [
            "ucap.city.cluster_joined.v1",
            "ucap.city.cluster_left.v1",
        ]

    async def test_joining_a_cluster_twice_is_a_conflict(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        response = await cities.client.post(
            f"/cities/{city['id']}/clusters", json={"cluster": "Smart City"}
        )

        assert response.status_code == 409
        assert "already in the cluster" in response.json()["detail"]

    async def test_leaving_a_cluster_not_joined_is_404(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        response = await cities.client.delete(f"/cities/{city['id']}/clusters/Circular Economy")

        assert response.status_code == 404
        assert len(await history(cities.client, city["id"])) == 1

    async def test_an_empty_cluster_name_is_invalid(self, cities: CitiesService) -> None:
        city = await register(cities.client)

        response = await cities.client.post(f"/cities/{city['id']}/clusters", json={"cluster": " "})

        assert invalid_fields(response) == {("body", "cluster")}


class TestPublishing:
    async def test_the_events_reach_the_services_topic(self, cities: CitiesService) -> None:
        city = await register(cities.client)
        topic = events_topic(cities.isolation.service_name)
        bootstrap = cities.app.state.runtime.settings.kafka_bootstrap_servers

        async def published() -> list[ConsumerRecord[bytes, bytes]] | None:
            records = await read_topic(bootstrap, topic)
            return [record for record in records if record.key == city["id"].encode()] or None

        [record] = await eventually(published, timeout=30)
        assert Envelope.from_json(record.value).type == "ucap.city.registered.v1"
        headers = dict(record.headers)
        assert headers.pop("content-type") == STRUCTURED_CONTENT_TYPE.encode()
        assert int(headers.pop(LEASE_EPOCH_HEADER)) >= 1, "the relay's lease epoch"
        assert headers == {}, "no other header: a ce_ one would read as binary mode"


REQUEST_MODELS: list[type[BaseModel]] = [
    schemas.RegisterCityRequest,
    schemas.UpdateCityRequest,
    schemas.StakeholderIn,
    schemas.JoinClusterRequest,
    organisations_api.RegisterOrganisationRequest,
]
OWN_SCHEMAS = {
    "RegisterOrganisationRequest",
    "OrganisationOut",
    "OrganisationPage",
    "RegisterCityRequest",
    "UpdateCityRequest",
    "StakeholderIn",
    "JoinClusterRequest",
    "CityOut",
    "CityPage",
    "StakeholderOut",
    "HistoryEntry",
    "Population",
}


class TestOpenApi:
    async def test_every_field_of_the_cities_schemas_has_a_description(
        self, cities: CitiesService
    ) -> None:
        schemas = (await cities.client.get("/openapi.json")).json()["components"]["schemas"]

        undescribed = [
            f"{name}.{field}"
            for name in OWN_SCHEMAS
            for field, spec in schemas[name]["properties"].items()
            if not spec.get("description")
        ]

        assert set(schemas) >= OWN_SCHEMAS
        assert undescribed == []

    async def test_every_request_example_validates(self, cities: CitiesService) -> None:
        schemas = (await cities.client.get("/openapi.json")).json()["components"]["schemas"]

        for model in REQUEST_MODELS:
            examples = schemas[model.__name__]["examples"]
            assert examples, model.__name__
            for example in examples:
                model.model_validate(example)

    async def test_the_routes_are_documented(self, cities: CitiesService) -> None:
        paths = (await cities.client.get("/openapi.json")).json()["paths"]

        assert set(paths) >= {
            "/cities",
            "/cities/{city_id}",
            "/cities/{city_id}/stakeholders",
            "/cities/{city_id}/stakeholders/{stakeholder_id}",
            "/cities/{city_id}/clusters",
            "/cities/{city_id}/clusters/{cluster}",
            "/cities/{city_id}/history",
            "/organisations",
            "/organisations/{organisation_id}",
        }
        assert set(paths["/organisations"]) == {"get", "post"}
        assert set(paths["/cities/{city_id}"]) == {"get", "patch"}
