"""The checked-in contracts are what the models say, and consumers can read them."""

import json
from typing import Any

import jsonschema_rs
import pytest
import yaml

import ucap_contracts
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData

PUBLISHED = {
    model.event_type: (service, model)
    for service in ucap_contracts.SERVICES
    for model in ucap_contracts.published_events(service)
}
CONSUMER_MODELS = [
    model
    for model in ucap_contracts.consumer_models()
    if PUBLISHED.get(model.event_type, (None, None))[1] is not model
]


def example(event_type: str) -> dict[str, Any]:
    path = ucap_contracts.CONTRACTS / "examples" / f"{event_type}.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


class TestContractsMatchTheModels:
    def test_no_checked_in_contract_differs_from_what_the_models_generate(self) -> None:
        drift = ucap_contracts.stale(ucap_contracts.render())
        assert drift == [], "run `make contracts` and commit the result"

    def test_there_are_contracts_to_check(self) -> None:
        assert len(PUBLISHED) >= 12
        assert (ucap_contracts.CONTRACTS / "envelope.schema.json").exists()


def envelope_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (ucap_contracts.CONTRACTS / "envelope.schema.json").read_text()
    )
    return loaded


class TestTheEnvelopeSchema:
    def test_requires_the_cloudevents_attributes_and_ours(self) -> None:
        required = set(envelope_schema()["required"])

        assert {"specversion", "id", "source", "type"} <= required
        assert {"subject", "time", "aggregateversion", "data", "actor"} <= required

    def test_accepts_extension_attributes_and_no_integer_sequence(self) -> None:
        validator = jsonschema_rs.Draft202012Validator(envelope_schema())
        event = example("ucap.city.registered.v1")

        assert validator.is_valid({**event, "traceparent": "00-ab-cd-01"})
        assert validator.is_valid({**event, "sequence": "00000000000000000001"})
        assert not validator.is_valid({**event, "sequence": 1})
        assert not validator.is_valid({**event, "Not_a_name": "x"})
        assert not validator.is_valid({k: v for k, v in event.items() if k != "id"})


@pytest.mark.parametrize("event_type", sorted(PUBLISHED))
class TestEachPublishedEvent:
    def test_has_a_schema_titled_with_its_versioned_type(self, event_type: str) -> None:
        path = ucap_contracts.CONTRACTS / "events" / f"{event_type}.schema.json"
        schema = json.loads(path.read_text())
        assert schema["title"] == event_type
        assert event_type.endswith((".v1", ".v2", ".v3"))

    def test_has_an_example_envelope_its_model_and_the_schema_accept(self, event_type: str) -> None:
        jsonschema_rs.Draft202012Validator(envelope_schema()).validate(example(event_type))
        envelope = Envelope.model_validate(example(event_type))
        service, model = PUBLISHED[event_type]
        assert envelope.type == event_type
        assert envelope.source == f"ucap/{service}"
        model.model_validate(envelope.data)


class TestAsyncApi:
    def test_lists_every_topic_and_every_message(self) -> None:
        document = yaml.safe_load((ucap_contracts.CONTRACTS / "asyncapi.yaml").read_text())
        assert document["asyncapi"].startswith("3.")
        addresses = {channel["address"] for channel in document["channels"].values()}
        for service in ucap_contracts.SERVICES:
            if ucap_contracts.published_events(service):
                assert f"ucap.{service}.events" in addresses
                assert f"ucap.{service}.dlq" in addresses
        names = {message["name"] for message in document["components"]["messages"].values()}
        assert names == set(PUBLISHED)


@pytest.mark.parametrize("model", CONSUMER_MODELS, ids=lambda m: f"{m.__module__}.{m.__qualname__}")
class TestConsumersNarrowCopies:
    def test_reads_the_producers_example(self, model: type[EventData]) -> None:
        assert model.event_type in PUBLISHED, f"{model.event_type} is published by nobody"
        model.model_validate(example(model.event_type)["data"])

    def test_reads_only_fields_the_producer_publishes(self, model: type[EventData]) -> None:
        path = ucap_contracts.CONTRACTS / "events" / f"{model.event_type}.schema.json"
        published = set(json.loads(path.read_text())["properties"])
        assert set(model.model_fields) <= published
