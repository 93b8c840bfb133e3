"""Every string and every array a client may send has a documented bound.

Each service's OpenAPI document, and the gateway's merged one, is walked from
every request body through ``$ref``, ``allOf``/``anyOf``/``oneOf``, ``items``,
``properties`` and ``additionalProperties``. A string needs ``maxLength`` unless
its values are already few and short: an ``enum``, a ``const``, a date-like
``format``, or a pattern anchored at both ends that repeats nothing without an
upper count. An array needs ``maxItems``, a map (``additionalProperties`` with a
schema) ``maxProperties``; a schema that admits any JSON at all (no ``type``, no
``$ref``, no composition, or ``additionalProperties: true``) is unbounded too.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tests.support.openapi_documents import SERVICES, document_of, merged_public_document
from ucap_cities.schemas import RegisterCityRequest
from ucap_mous.schemas import DraftMouRequest
from ucap_reporting.api import ActivityIn, CreateUcapRequest
from ucap_shared import bounds

Schema = dict[str, Any]
BOUNDED_FORMATS = frozenset({"date", "date-time", "time", "uuid"})
COMPOSITIONS = ("allOf", "anyOf", "oneOf")
UNBOUNDED_REPEAT = re.compile(r"[*+]|\{\d*,\}")


DOCUMENT_NAMES = [*SERVICES, "gateway"]


def documents() -> dict[str, Schema]:
    """Each service's document, and the gateway's merged from them."""
    return {
        **{service: document_of(service) for service in SERVICES},
        "gateway": merged_public_document(),
    }


def pattern_bounds_length(pattern: str) -> bool:
    """Anchored at both ends, no top-level alternative, and every repeat has a ceiling."""
    outside_classes = re.sub(r"\[(?:\\.|[^\]\\])*\]", "c", re.sub(r"\\.", "e", pattern))
    depth, alternative_at_top = 0, False
    for char in outside_classes:
        depth += {"(": 1, ")": -1}.get(char, 0)
        alternative_at_top |= char == "|" and depth == 0
    return (
        outside_classes.startswith("^")
        and outside_classes.endswith("$")
        and not alternative_at_top
        and not UNBOUNDED_REPEAT.search(outside_classes)
    )


def string_is_bounded(schema: Schema) -> bool:
    return (
        "maxLength" in schema
        or "enum" in schema
        or "const" in schema
        or schema.get("format") in BOUNDED_FORMATS
        or pattern_bounds_length(schema.get("pattern", ""))
    )


def types_of(schema: Schema) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, list):
        return set(declared)
    return {declared} if isinstance(declared, str) else set()


class Walk:
    """The unbounded places of one document's request bodies, by JSON path."""

    def __init__(self, document: Schema) -> None:
        self.schemas: dict[str, Schema] = document.get("components", {}).get("schemas", {})
        self.unbounded: list[str] = []

    def visit(self, schema: Schema, path: str, refs: tuple[str, ...] = ()) -> None:
        if "$ref" in schema:
            self._follow(schema["$ref"], path, refs)
        for key in COMPOSITIONS:
            for index, part in enumerate(schema.get(key, [])):
                self.visit(part, f"{path}({key}[{index}])", refs)
        kinds = types_of(schema)
        if not kinds and not ({"$ref", "enum", "const"} | set(COMPOSITIONS)) & schema.keys():
            self.unbounded.append(f"{path}: admits any JSON")
        if "string" in kinds and not string_is_bounded(schema):
            self.unbounded.append(f"{path}: string without maxLength")
        if "array" in kinds and "maxItems" not in schema:
            self.unbounded.append(f"{path}: array without maxItems")
        self._children(schema, path, refs)

    def _follow(self, reference: str, path: str, refs: tuple[str, ...]) -> None:
        if reference in refs:
            return  # a recursive model: its fields are walked where it is first met
        name = reference.rsplit("/", 1)[-1]
        self.visit(self.schemas[name], path, (*refs, reference))

    def _children(self, schema: Schema, path: str, refs: tuple[str, ...]) -> None:
        items = schema.get("items")
        if isinstance(items, dict):
            self.visit(items, f"{path}[]", refs)
        for name, child in schema.get("properties", {}).items():
            self.visit(child, f"{path}.{name}", refs)
        extra = schema.get("additionalProperties")
        if extra is True:
            self.unbounded.append(f"{path}.*: admits any JSON")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                self.unbounded.append(f"{path}: map without maxProperties")
            self.visit(extra, f"{path}.*", refs)


def request_bodies(document: Schema) -> Iterator[tuple[str, Schema]]:
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            for media, content in (body or {}).get("content", {}).items():
                yield f"{method.upper()} {path} {media}", content.get("schema", {})


def unbounded_places(document: Schema) -> list[str]:
    walk = Walk(document)
    for where, schema in request_bodies(document):
        walk.visit(schema, f"{where} body")
    return walk.unbounded


@pytest.mark.parametrize("service", DOCUMENT_NAMES)
class TestRequestBodies:
    def test_every_string_and_array_a_client_sends_has_a_bound(self, service: str) -> None:
        assert unbounded_places(documents()[service]) == []

    def test_every_operation_with_a_body_documents_413_and_422(self, service: str) -> None:
        undocumented = [
            f"{method.upper()} {path}: {code}"
            for path, operations in documents()[service]["paths"].items()
            for method, operation in operations.items()
            if isinstance(operation, dict) and "requestBody" in operation
            for code in ("413", "422")
            if code not in operation.get("responses", {})
        ]
        assert undocumented == []


class TestTheServicesHaveBodiesToCheck:
    @pytest.mark.parametrize("service", list(SERVICES))
    def test_each_service_takes_request_bodies(self, service: str) -> None:
        assert len(list(request_bodies(documents()[service]))) >= 3


class TestTheWalkFindsWhatIsUnbounded:
    """The walk itself, on small documents: what it must find, and what it must let be."""

    @staticmethod
    def document(body: Schema, **schemas: Schema) -> Schema:
        operation = {"requestBody": {"content": {"application/json": {"schema": body}}}}
        return {"paths": {"/things": {"post": operation}}, "components": {"schemas": schemas}}

    def test_finds_a_string_inside_a_referenced_model_in_an_optional_list(self) -> None:
        inner = {"type": "object", "properties": {"name": {"type": "string"}}}
        listed = {"type": "array", "maxItems": 5, "items": {"$ref": "#/components/schemas/Inner"}}
        body = {"type": "object", "properties": {"things": {"anyOf": [listed, {"type": "null"}]}}}

        places = unbounded_places(self.document(body, Inner=inner))

        assert places == [
            "POST /things application/json body.things(anyOf[0])[].name: string without maxLength"
        ]

    def test_finds_an_array_without_max_items_and_open_maps(self) -> None:
        body = {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 9}},
                "extra": {"type": "object", "additionalProperties": {}},
                "open": {"type": "object", "additionalProperties": True},
                "labels": {
                    "type": "object",
                    "maxProperties": 5,
                    "additionalProperties": {"type": "string", "maxLength": 9},
                },
            },
        }

        places = unbounded_places(self.document(body))

        assert places == [
            "POST /things application/json body.tags: array without maxItems",
            "POST /things application/json body.extra: map without maxProperties",
            "POST /things application/json body.extra.*: admits any JSON",
            "POST /things application/json body.open.*: admits any JSON",
        ]

    @pytest.mark.parametrize(
        "string",
        [
            {"type": "string", "maxLength": 100},
            {"type": "string", "enum": ["a", "b"]},
            {"type": "string", "format": "date"},
            {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
            {"type": "string", "pattern": r"^[A-Z]{3}$"},
        ],
    )
    def test_lets_a_string_bounded_otherwise_be(self, string: Schema) -> None:
        body = {"type": "object", "properties": {"field": string}}

        assert unbounded_places(self.document(body)) == []

    @pytest.mark.parametrize(
        "pattern",
        [r"^[a-z0-9]+(-[a-z0-9]+)*$", r"^a{2,}$", r"^ab", r"^a$|b", r"\d{4}", r"^[\]+]\S+$"],
    )
    def test_a_pattern_that_repeats_without_a_ceiling_bounds_nothing(self, pattern: str) -> None:
        assert not pattern_bounds_length(pattern)


class TestTheModelsRefuseWhatTheyDocument:
    """Fields unbounded before ``ucap_shared.bounds``: one past the bound is refused."""

    @staticmethod
    def refused(model: type[BaseModel], body: dict[str, Any]) -> set[tuple[str | int, ...]]:
        with pytest.raises(ValidationError) as error:
            model.model_validate(body)
        return {tuple(problem["loc"]) for problem in error.value.errors()}

    def test_a_mou_title_subject_theme_and_party_list(self) -> None:
        party = {"city_id": "granada"}
        body = {
            "id": "a-mou",
            "title": "t" * (bounds.TITLE_CHARS + 1),
            "subject": "s" * (bounds.TEXT_CHARS + 1),
            "parties": [party] * (bounds.ITEMS_PER_LIST + 1),
            "themes": ["t" * (bounds.NAME_CHARS + 1)],
        }

        assert self.refused(DraftMouRequest, body) == {
            ("title",),
            ("subject",),
            ("parties",),
            ("themes", 0),
        }

    def test_a_ucaps_counterparts_and_an_activitys_places(self) -> None:
        counterparts = [f"city-{n}" for n in range(bounds.ITEMS_PER_LIST + 1)]
        ucap = {"id": "u", "title": "U", "lead_city_id": "g", "counterpart_city_ids": counterparts}
        activity = {
            "activity_id": "a",
            "date": "2018-07",
            "kind": "meeting",
            "title": "A meeting",
            "places": ["Granada"] * (bounds.ITEMS_PER_LIST + 1),
            "outcome": "o" * (bounds.TEXT_CHARS + 1),
        }

        assert self.refused(CreateUcapRequest, ucap) == {("counterpart_city_ids",)}
        assert self.refused(ActivityIn, activity) == {("places",), ("outcome",)}

    def test_a_citys_stakeholders_and_clusters(self) -> None:
        stakeholders = [
            {"id": f"org-{n}", "name": "An organisation", "kind": "company"}
            for n in range(bounds.IDS_PER_LIST + 1)
        ]
        clusters = [f"Cluster {n}" for n in range(bounds.THEMES_PER_LIST + 1)]
        city = {
            "id": "granada",
            "name": "Granada",
            "country": "ES",
            "world_region": "Europe",
            "population": {"known": False},
            "stakeholders": stakeholders,
            "clusters": clusters,
        }

        assert self.refused(RegisterCityRequest, city) == {("stakeholders",), ("clusters",)}

    def test_values_at_their_bounds_are_taken(self) -> None:
        activity = ActivityIn.model_validate(
            {
                "activity_id": "a" * bounds.ID_CHARS,
                "date": "2018-07",
                "kind": "meeting",
                "title": "t" * bounds.TITLE_CHARS,
                "places": ["p" * bounds.NAME_CHARS] * bounds.ITEMS_PER_LIST,
                "outcome": "o" * bounds.TEXT_CHARS,
            }
        ).activity()

        assert len(activity.places) == bounds.ITEMS_PER_LIST
        assert len(activity.outcome) == bounds.TEXT_CHARS
