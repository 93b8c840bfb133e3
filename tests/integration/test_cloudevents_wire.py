"""Every events topic read with the official CloudEvents SDK's Kafka reader.

The four services run as real processes on a topic namespace of their own. Each
is asked for one write through its API (a MoU whose validity has already ended,
so the scheduled check records its expiry too); then every record of every
``<namespace>.<service>.events`` topic goes through the SDK's ``from_kafka``,
which picks binary or structured mode itself, and must come out as the event.
"""

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat

from tests.ops.event_services import city, clean_up
from tests.services.reporting.conftest import ucap_body
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.kafka_reading import read_topic
from tests.support.processes import RunningService, run_services
from tests.support.stack import SERVICES, isolated_env
from tests.support.waiting import eventually
from ucap_shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from ucap_shared.mongo import connect_mongo


@dataclass(frozen=True)
class Read:
    """One record of an events topic as the SDK read it, beside what ucap reads."""

    service: str
    key: str
    headers: dict[str, bytes]
    event: BaseCloudEvent
    ours: Envelope


@dataclass(frozen=True)
class Wire:
    records: list[Read]
    lead: str
    counterpart: str

    def of(self, service: str) -> list[Read]:
        return [read for read in self.records if read.service == service]

    def typed(self, event_type: str) -> list[BaseCloudEvent]:
        return [read.event for read in self.records if read.event.get_type() == event_type]


@contextmanager
def services(env: dict[str, str], log_dir: Path) -> Iterator[dict[str, RunningService]]:
    with run_services(SERVICES, env, log_dir) as running:
        yield running


async def created(service: RunningService, path: str, body: dict[str, Any]) -> None:
    """Posted once the service's views know what it names (422 until then)."""
    headers = {**bearer(service.name), "X-Correlation-ID": f"wire-{service.name}"}
    async with httpx.AsyncClient(base_url=service.url, headers=headers, timeout=30) as client:

        async def accepted() -> bool:
            answer = await client.post(path, json=body)
            assert answer.status_code in (201, 422), answer.text
            return answer.status_code == 201

        await eventually(accepted, timeout=60, interval=0.2)


async def published(
    service: RunningService, bootstrap: str, topic: str, least: int
) -> list[Any] | None:
    """The topic's records, once the relay has published all its service stored, and at
    least ``least`` of them (the scheduled expiry check appends after the writes)."""
    async with httpx.AsyncClient(base_url=service.url, headers=bearer(service.name)) as client:
        backlog = (await client.get("/ops/relay")).json()["backlog"]
    records = await read_topic(bootstrap, topic) if backlog == 0 else []
    return records if len(records) >= least else None


def read_with_the_sdk(service: str, records: list[Any]) -> list[Read]:
    return [
        Read(
            service=service,
            key=record.key.decode(),
            headers=dict(record.headers),
            event=from_kafka(
                KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value),
                JSONFormat(),
            ),
            ours=Envelope.from_json(record.value),
        )
        for record in records
    ]


@pytest.fixture(scope="module")
async def wire(
    infra: Infra, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Wire]:
    suffix = uuid.uuid4().hex[:8]
    env = {**isolated_env(service_env, f"ce{suffix}"), "UCAP_MOUS_EXPIRY_CHECK_SECONDS": "0.5"}
    lead, counterpart = f"granada{suffix}", f"kunming{suffix}"
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        with services(env, tmp_path_factory.mktemp("ce-logs")) as running:
            for city_id, name in ((lead, "Granada"), (counterpart, "Kunming")):
                await created(running["cities"], "/cities", city(city_id, name))
            mou = {
                "id": f"mou-{suffix}",
                "title": "MoU on smart cities",
                "subject": "Cooperation",
                "parties": [{"city_id": lead}, {"city_id": counterpart}],
                "valid_until": "2019-06",
            }
            await created(running["mous"], "/mous", mou)
            ucap_id = f"ucap-{suffix}"
            await created(running["reporting"], "/ucaps", ucap_body(ucap_id, lead, [counterpart]))
            pilot = {
                "id": f"{lead}-wire",
                "title": "A pilot",
                "lead_city_id": lead,
                "partners": [{"city_id": counterpart, "role": "partner"}],
                "ucap_id": ucap_id,
            }
            await created(running["pilots"], "/pilots", pilot)
            least = {"cities": 2, "mous": 2, "reporting": 1, "pilots": 1}
            records: list[Read] = []
            bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
            for name, service in running.items():
                topic = f"{env['UCAP_TOPIC_NAMESPACE']}.{name}.events"
                found = await eventually(
                    partial(published, service, bootstrap, topic, least[name]), timeout=60
                )
                records += read_with_the_sdk(name, found)
        yield Wire(records, lead, counterpart)
    finally:
        await clean_up(env, mongo)
        await mongo.close()


class TestEveryEventsTopicReadWithTheOfficialSdk:
    def test_holds_the_events_of_every_service(self, wire: Wire) -> None:
        types = {read.event.get_type() for read in wire.records}

        assert {read.service for read in wire.records} == set(SERVICES)
        assert {
            "ucap.city.registered.v1",
            "ucap.mou.drafted.v1",
            "ucap.mou.expired.v1",
            "ucap.ucap.created.v1",
            "ucap.pilot.proposed.v1",
        } <= types

    def test_every_record_is_in_structured_mode(self, wire: Wire) -> None:
        for read in wire.records:
            assert read.headers["content-type"] == STRUCTURED_CONTENT_TYPE.encode()
            assert not [name for name in read.headers if name.startswith("ce_")]

    def test_the_required_and_optional_attributes_are_what_ucap_reads(self, wire: Wire) -> None:
        for read in wire.records:
            event, ours = read.event, read.ours
            assert event.get_specversion() == "1.0"
            assert event.get_id() == str(ours.id)
            assert uuid.UUID(event.get_id()).version == 4
            assert event.get_source() == f"ucap/{read.service}"
            assert event.get_type() == ours.type
            assert event.get_subject() == ours.subject == read.key
            time = event.get_time()
            assert isinstance(time, datetime)
            assert time.tzinfo is not None
            assert time == ours.time
            assert event.get_datacontenttype() == "application/json"
            assert event.get_data() == ours.data

    def test_the_extensions_carry_version_actor_and_correlation(self, wire: Wire) -> None:
        versions: dict[tuple[str, str], list[int]] = defaultdict(list)
        for read in wire.records:
            event = read.event
            assert event.get_extension("sequence") is None, "the sequence extension is a string"
            version = event.get_extension("aggregateversion")
            assert isinstance(version, int)
            assert version == read.ours.sequence
            versions[(read.service, read.key)].append(version)
            assert event.get_extension("actor") == read.ours.actor
        for stream, seen in versions.items():
            assert seen == list(range(1, len(seen) + 1)), stream
        [registered, *_] = wire.typed("ucap.city.registered.v1")
        assert registered.get_extension("correlationid") == "wire-cities"
        [proposed] = wire.typed("ucap.pilot.proposed.v1")
        assert proposed.get_extension("correlationid") == "wire-pilots"

    def test_an_expiry_names_the_draft_it_follows_from(self, wire: Wire) -> None:
        [drafted] = wire.typed("ucap.mou.drafted.v1")
        [expired] = wire.typed("ucap.mou.expired.v1")

        assert expired.get_extension("causationid") == drafted.get_id()
        assert expired.get_extension("actor") == "system:expiry-check"
        assert drafted.get_extension("causationid") is None
