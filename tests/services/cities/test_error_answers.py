"""Every refusal a service gives has the one error shape, and what it documents."""

from tests.services.cities.conftest import CitiesService
from tests.support.auth import bearer, city_publisher, reader


class TestErrorAnswers:
    async def test_a_refused_caller_gets_the_error_body(self, cities: CitiesService) -> None:
        response = await cities.client.post("/cities", json={}, headers=bearer("cities", reader()))

        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
        assert "may not" in response.json()["detail"]

    async def test_a_body_that_is_not_text_is_422_naming_the_body(
        self, cities: CitiesService
    ) -> None:
        response = await cities.client.post(
            "/cities",
            content=b"\xff\xfe{",
            headers={
                **bearer("cities", city_publisher("granada")),
                "Content-Type": "application/json",
            },
        )

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body"]

    async def test_a_nul_character_anywhere_is_422_naming_where(
        self, cities: CitiesService
    ) -> None:
        publisher = bearer("cities", city_publisher("granada"))
        in_body = await cities.client.post(
            "/cities",
            content=b'{"id": "gra\\u0000nada", "name": "x"}',
            headers={**publisher, "Content-Type": "application/json"},
        )
        in_path = await cities.client.get("/cities/gra%00nada", headers=publisher)
        in_query = await cities.client.get("/cities?cluster=a%00b", headers=publisher)
        escaped_backslash = await cities.client.post(
            "/cities",
            content=b'{"id": "a\\\\u0000"}',
            headers={**publisher, "Content-Type": "application/json"},
        )

        assert [r.status_code for r in (in_body, in_path, in_query)] == [422, 422, 422]
        assert [r.json()["detail"][0]["loc"] for r in (in_body, in_path, in_query)] == [
            ["body"],
            ["path"],
            ["query"],
        ]
        assert "NUL" in in_body.json()["detail"][0]["msg"]
        # A backslash before "u0000" is text, not a NUL: the model's own checks answer it.
        assert escaped_backslash.status_code == 422
        assert escaped_backslash.json()["detail"][0].get("type") != "nul"

    async def test_a_method_not_served_names_every_method_of_the_path(
        self, cities: CitiesService
    ) -> None:
        response = await cities.client.put("/cities", json={})

        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
        assert response.json()["error"] == "method_not_allowed"

    async def test_the_document_names_the_guards_answers_on_every_operation(
        self, cities: CitiesService
    ) -> None:
        document = (await cities.client.get("/openapi.json")).json()

        missing = [
            (method, path)
            for path, operations in document["paths"].items()
            if not path.startswith("/health")
            for method, operation in operations.items()
            if "401" not in operation["responses"]
            or (method != "get" and "409" not in operation["responses"])
            or ("requestBody" in operation and "413" not in operation["responses"])
        ]

        assert missing == []
        assert document["security"] == [{"gatewayToken": []}]
