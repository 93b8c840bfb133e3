"""Listing cities: filters and cursor pagination, on a service of this module's own."""

from typing import Any

import pytest

from tests.services.cities.conftest import CitiesService, city_body

CATALOGUE = [
    city_body("granada", name="Granada", country="ES", world_region="Europe",
              clusters=["Smart City", "Circular Economy"]),
    city_body("sevilla", name="Seville", country="ES", world_region="Europe", clusters=[]),
    city_body("lyon", name="Lyon", country="FR", world_region="Europe", clusters=["Smart City"]),
    city_body("haikou", clusters=["Smart City"]),
    city_body("kunming", name="Kunming", clusters=["Smart City", "Circular Economy"]),
    city_body("liuzhou", name="Liuzhou", clusters=["Smart City"]),
    city_body("zhengzhou", name="Zhengzhou", clusters=["Smart City"]),
    city_body("curitiba", name="Curitiba", country="BR",
              world_region="Latin America and the Caribbean", clusters=["Circular Economy"]),
]  # fmt: skip


@pytest.fixture(scope="module")
async def catalogue(cities: CitiesService) -> CitiesService:
    for body in CATALOGUE:
        response = await cities.client.post("/cities", json=body)
        assert response.status_code == 201, response.text
    return cities


async def ids(service: CitiesService, **params: Any) -> list[str]:
    response = await service.client.get("/cities", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    return [city["id"] for city in page["items"]]


class TestFilters:
    async def test_without_filters_every_city_in_id_order(self, catalogue: CitiesService) -> None:
        assert await ids(catalogue) == sorted(body["id"] for body in CATALOGUE)

    async def test_by_country(self, catalogue: CitiesService) -> None:
        assert await ids(catalogue, country="ES") == ["granada", "sevilla"]

    async def test_by_world_region(self, catalogue: CitiesService) -> None:
        assert await ids(catalogue, world_region="Latin America and the Caribbean") == ["curitiba"]

    async def test_by_cluster(self, catalogue: CitiesService) -> None:
        assert await ids(catalogue, cluster="Circular Economy") == [
            "curitiba",
            "granada",
            "kunming",
        ]

    async def test_filters_combine(self, catalogue: CitiesService) -> None:
        found = await ids(catalogue, world_region="Asia", cluster="Circular Economy", country="CN")

        assert found == ["kunming"]

    async def test_an_unknown_world_region_is_invalid(self, catalogue: CitiesService) -> None:
        response = await catalogue.client.get("/cities", params={"world_region": "Mars"})

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "world_region"]


class TestPagination:
    async def test_pages_follow_the_cursor_to_the_end_without_repeats(
        self, catalogue: CitiesService
    ) -> None:
        seen: list[str] = []
        sizes: list[int] = []
        params: dict[str, Any] = {"limit": 3}
        while True:
            page = (await catalogue.client.get("/cities", params=params)).json()
            seen += [city["id"] for city in page["items"]]
            sizes.append(len(page["items"]))
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]

        assert seen == sorted(body["id"] for body in CATALOGUE)
        assert sizes == [3, 3, 2]

    async def test_paginates_within_a_filter(self, catalogue: CitiesService) -> None:
        first = (
            await catalogue.client.get("/cities", params={"cluster": "Smart City", "limit": 4})
        ).json()
        second = (
            await catalogue.client.get(
                "/cities",
                params={"cluster": "Smart City", "limit": 4, "cursor": first["next_cursor"]},
            )
        ).json()

        assert [c["id"] for c in first["items"]] == ["granada", "haikou", "kunming", "liuzhou"]
        assert [c["id"] for c in second["items"]] == ["lyon", "zhengzhou"]
        assert second["next_cursor"] is None

    @pytest.mark.parametrize("limit", [0, 201])
    async def test_a_limit_out_of_range_is_invalid(
        self, catalogue: CitiesService, limit: int
    ) -> None:
        response = await catalogue.client.get("/cities", params={"limit": limit})

        assert response.status_code == 422


class TestReadsReflectWrites:
    async def test_a_city_is_listed_in_a_cluster_as_soon_as_it_joins(
        self, catalogue: CitiesService
    ) -> None:
        joined = await catalogue.client.post(
            "/cities/sevilla/clusters", json={"cluster": "Cultural Heritage"}
        )

        assert joined.status_code == 201
        assert await ids(catalogue, cluster="Cultural Heritage") == ["sevilla"]
