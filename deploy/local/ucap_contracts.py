"""Generate the event contracts from the pydantic models.

    python deploy/local/ucap_contracts.py [--check]

Writes, under ``contracts/``: one JSON Schema per event type
(``events/<type>.schema.json``), the envelope's schema, one example envelope
per event type that has an example (``examples/<type>.json``), and the AsyncAPI
3.0 document listing every channel and message (``asyncapi.yaml``). With
``--check`` it writes nothing and exits 1 when the files on disk differ.
"""

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from ucap_shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from ucap_shared.events import EventData
from ucap_shared.topics import dead_letter_topic, events_topic

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = REPO_ROOT / "contracts"
SERVICES = ("cities", "mous", "pilots", "reporting")
EXAMPLE_TIME = "2020-05-04T10:00:00Z"


def published_events(service: str) -> list[type[EventData]]:
    """The event models a service declares in ``ucap_<service>.events.PUBLISHED_EVENTS``."""
    try:
        module = importlib.import_module(f"ucap_{service}.events")
    except ModuleNotFoundError:
        return []
    return list(getattr(module, "PUBLISHED_EVENTS", ()))


def service_modules(service: str) -> list[ModuleType]:
    package = importlib.import_module(f"ucap_{service}")
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"ucap_{service}."):
        if not info.name.endswith("__main__"):
            modules.append(importlib.import_module(info.name))
    return modules


def consumer_models() -> list[type[EventData]]:
    """Every EventData model in the services, producers' and consumers' alike."""
    for service in (*SERVICES, "gateway"):
        service_modules(service)
    found: list[type[EventData]] = []
    pending = list(EventData.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        event_type = getattr(model, "event_type", "")
        if model.__module__.startswith("ucap_") and event_type and "*" not in event_type:
            found.append(model)
    return found


def schema_of(model: type[EventData]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    schema.pop("examples", None)
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:ucap:event:{model.event_type}",
        "title": model.event_type,
        **schema,
    }


def example_of(service: str, model: type[EventData]) -> dict[str, Any] | None:
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if not isinstance(examples, list) or not examples:
        return None
    data = model.model_validate(examples[0]).model_dump(mode="json")
    subject = next((value for key, value in data.items() if key.endswith("_id")), "example")
    return {
        "specversion": "1.0",
        "id": "00000000-0000-4000-8000-000000000001",
        "source": f"ucap/{service}",
        "type": model.event_type,
        "subject": subject,
        "time": EXAMPLE_TIME,
        "aggregateversion": 1,
        "datacontenttype": "application/json",
        "data": data,
        "correlationid": "example-correlation",
        "actor": "city:granada",
    }


def asyncapi(catalogue: dict[str, list[type[EventData]]]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, models in catalogue.items():
        channel = f"{service}Events"
        channel_messages = {}
        for model in models:
            name = model.event_type.removeprefix("ucap.").replace(".", "_")
            messages[name] = {
                "name": model.event_type,
                "title": model.event_type,
                "summary": (model.__doc__ or model.event_type).strip().splitlines()[0],
                "contentType": "application/cloudevents+json",
                "headers": {"$ref": "#/components/schemas/recordHeaders"},
                "payload": {
                    "allOf": [
                        {"$ref": "./envelope.schema.json"},
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": model.event_type},
                                "data": {"$ref": f"./events/{model.event_type}.schema.json"},
                            },
                        },
                    ]
                },
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel] = {
            "address": events_topic(service, within="ucap"),
            "description": f"Domain events of the {service} service, keyed by aggregate id.",
            "messages": channel_messages,
        }
        channels[f"{service}DeadLetters"] = {
            "address": dead_letter_topic(service, within="ucap"),
            "description": (
                f"Records the {service} service's consumers could not apply, with "
                "dlq_original_topic, dlq_original_partition, dlq_original_offset, "
                "dlq_consumer_group, dlq_error_kind, dlq_error and dlq_failed_at headers."
            ),
        }
        operations[f"publish{service.capitalize()}Events"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{name}"} for name in channel_messages
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ucap domain events",
            "version": "1.0.0",
            "description": (
                "Events the ucap services exchange over Kafka: CloudEvents 1.0 in structured "
                "content mode (JSON), one topic per producing service, key = aggregate id = "
                "subject. The aggregate's version is the `aggregateversion` extension; events "
                "published before it carry it as an integer `sequence`. Other extension "
                "attributes are accepted and kept."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                "recordHeaders": {
                    "type": "object",
                    "description": (
                        "Structured content mode: the whole event is the record's value. "
                        "No ce_ header is set, so no reader takes the record for binary mode."
                    ),
                    "properties": {
                        "content-type": {"const": STRUCTURED_CONTENT_TYPE},
                    },
                    "required": ["content-type"],
                }
            },
        },
    }


def render() -> dict[Path, str]:
    """Every contract file, path to text."""
    files: dict[Path, str] = {}
    envelope = Envelope.model_json_schema()
    envelope["$id"] = "urn:ucap:envelope"
    files[CONTRACTS / "envelope.schema.json"] = _json(envelope)
    catalogue = {service: published_events(service) for service in SERVICES}
    for service, models in catalogue.items():
        for model in models:
            files[CONTRACTS / "events" / f"{model.event_type}.schema.json"] = _json(
                schema_of(model)
            )
            example = example_of(service, model)
            if example is not None:
                files[CONTRACTS / "examples" / f"{model.event_type}.json"] = _json(example)
    files[CONTRACTS / "asyncapi.yaml"] = yaml.safe_dump(
        asyncapi(catalogue), sort_keys=False, allow_unicode=True, width=100
    )
    return files


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def stale(files: dict[Path, str]) -> list[Path]:
    """Files that differ from what is rendered, and generated files no model produces."""
    on_disk = {
        path for folder in ("events", "examples") for path in (CONTRACTS / folder).glob("*.json")
    }
    differing = [
        path for path, text in files.items() if not path.exists() or path.read_text() != text
    ]
    return sorted(differing + sorted(on_disk - set(files)))


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate ucap's event contracts.")
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    args = parser.parse_args()
    files = render()
    drift = stale(files)
    if args.check:
        for path in drift:
            print(f"out of date: {path.relative_to(REPO_ROOT)}")
        return 1 if drift else 0
    for path in drift:
        if path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path])
            print(f"wrote {path.relative_to(REPO_ROOT)}")
        else:
            path.unlink()
            print(f"removed {path.relative_to(REPO_ROOT)}")
    print(f"{len(files)} contract files, {len(drift)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
