"""Every service's OpenAPI document, and the gateway's, documents the one error body for a 422."""

from typing import Any

import pytest

from tests.support.openapi_documents import document_of, merged_public_document

SERVICES = ("cities", "mous", "pilots", "reporting", "gateway")


def documented_422s(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema each operation's 422 names, resolved."""
    schemas = document["components"]["schemas"]
    found = []
    for operations in document["paths"].values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422")
            if response is not None:
                reference = response["content"]["application/json"]["schema"]["$ref"]
                found.append(schemas[reference.rsplit("/", 1)[-1]])
    return found


def assert_the_one_422_body(document: dict[str, Any], schema: dict[str, Any]) -> None:
    assert schema["required"] == ["error", "detail"]
    assert schema["properties"]["error"]["const"] == "invalid_input"
    item = schema["properties"]["detail"]["items"]["$ref"].rsplit("/", 1)[-1]
    problem = document["components"]["schemas"][item]
    assert sorted(problem["required"]) == ["loc", "msg", "type"]
    assert set(problem["properties"]) == {"loc", "msg", "type"}


class TestTheDocumented422:
    @pytest.mark.parametrize("service", SERVICES)
    def test_is_the_one_error_body_on_every_operation(self, service: str) -> None:
        document = document_of(service)

        schemas = documented_422s(document)

        assert schemas
        for schema in schemas:
            assert_the_one_422_body(document, schema)

    def test_is_the_one_error_body_in_the_merged_public_document(self) -> None:
        document = merged_public_document()

        schemas = documented_422s(document)
        assert len(schemas) > len(documented_422s(document_of("gateway")))
        for schema in schemas:
            assert_the_one_422_body(document, schema)


class TestTheDocumentedRefusal:
    @pytest.mark.parametrize("service", SERVICES)
    def test_is_error_and_detail(self, service: str) -> None:
        body = document_of(service)["components"]["schemas"]["ErrorBody"]

        assert body["required"] == ["error", "detail"]
        assert "fields" not in body["properties"]
