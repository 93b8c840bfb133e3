"""``ucap dlq`` against real services: a record dead-lettered, its cause fixed, replayed.

The situation: the MoUs service keeps its own view of cities. A bad edit, made
the way view writers make theirs (a claimed revision, so the service's memory of
the document it wrote is not trusted over it), leaves one city's
``stakeholder_ids`` null in that view, so applying the
city's next event (a stakeholder added) fails on every retry and the record
goes to the MoUs service's dead-letter topic; the event after it waits behind
the gap. An operator lists it, repairs the document, and replays the record:
the MoUs consumer applies both events, and the cities service's own consumer,
which had applied the event long before, skips the replayed copy as a
duplicate.
"""

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from pymongo.asynchronous.collection import AsyncCollection

from tests.ops.event_services import city, clean_up, fresh_env
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.kafka_reading import read_topic
from tests.support.processes import RunningService, run_services
from tests.support.ucap_command import ucap
from tests.support.waiting import eventually
from ucap_mous.views import CITIES_VIEW
from ucap_ops.dead_letters import REPLAY_HEADER, DeadLetter, LetterId
from ucap_shared.envelope import STRUCTURED_CONTENT_TYPE
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.views import Document, apply_event

CITY = "kunming"
EDITS = "manual-edit"


async def edit(view: AsyncCollection[Document], sequence: int, stakeholder_ids: Any) -> None:
    """An operator's change of the city's document, as one more writer of the view."""
    await apply_event(
        view,
        CITY,
        stream=EDITS,
        sequence=sequence,
        project=lambda current: {**(current or {}), "stakeholder_ids": stakeholder_ids},
    )


@dataclass
class Scene:
    env: dict[str, str]
    cities: RunningService
    mous_database: str
    letter_id: str
    listed: list[dict[str, Any]]
    shown: dict[str, Any]
    listed_as_table: str

    @property
    def cities_topic(self) -> str:
        return f"{self.env['UCAP_TOPIC_NAMESPACE']}.cities.events"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.env['UCAP_TOPIC_NAMESPACE']}.mous.dlq"


def listing(env: dict[str, str]) -> list[dict[str, Any]]:
    result = ucap("dlq", "list", "--service", "mous", "--json", env=env)
    assert result.returncode == 0, result.stderr
    letters: list[dict[str, Any]] = json.loads(result.stdout)
    return letters


async def duplicates_skipped(cities: RunningService, group: str, topic: str) -> float:
    """What the cities service's own consumer counted as duplicates on its topic."""
    async with httpx.AsyncClient(base_url=cities.url, headers=bearer("cities")) as client:
        text = (await client.get("/metrics")).text
    pattern = re.compile(r"^ucap_events_consumed_total\{(.*)\} (\S+)$", re.M)
    wanted = {f'group="{group}"', f'topic="{topic}"', 'outcome="duplicate"'}
    return sum(
        float(value) for labels, value in pattern.findall(text) if wanted <= set(labels.split(","))
    )


@pytest.fixture(scope="module")
async def scene(
    infra: Infra, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scene]:
    env = fresh_env(service_env)
    log_dir: Path = tmp_path_factory.mktemp("dlq-logs")
    database = env["UCAP_MOUS_DATABASE"]
    mongo = connect_mongo(infra.mongodb_uri)
    view = mongo[database][CITIES_VIEW]
    try:
        with run_services(("cities", "mous"), env, log_dir) as running:
            cities = running["cities"]
            async with httpx.AsyncClient(base_url=cities.url, headers=bearer("cities")) as client:
                assert (await client.post("/cities", json=city(CITY, "Kunming"))).status_code == 201
                await eventually(
                    lambda: view.find_one({"_id": CITY, "registered": True}), timeout=60
                )
                await edit(view, 1, None)
                for stakeholder in ("ciba-town", "kangmei-health-city"):
                    added = await client.post(
                        f"/cities/{CITY}/stakeholders",
                        json={"id": stakeholder, "name": stakeholder, "kind": "company"},
                    )
                    assert added.status_code == 201

            dead_letter_topic = f"{env['UCAP_TOPIC_NAMESPACE']}.mous.dlq"

            async def dead_lettered() -> bool:
                return len(await read_topic(env["KAFKA_BOOTSTRAP_SERVERS"], dead_letter_topic)) > 0

            await eventually(dead_lettered, timeout=60, interval=0.5)
            listed = listing(env)
            letter_id = listed[0]["id"]
            shown = ucap("dlq", "show", letter_id, "--json", env=env)
            assert shown.returncode == 0, shown.stderr
            as_table = ucap("dlq", "list", env=env)
            assert as_table.returncode == 0, as_table.stderr
            yield Scene(
                env,
                cities,
                database,
                letter_id,
                listed,
                json.loads(shown.stdout),
                as_table.stdout,
            )
    finally:
        await clean_up(env, mongo)
        await mongo.close()


class TestADeadLetteredRecord:
    def test_is_listed_with_where_it_came_from_and_its_error(self, scene: Scene) -> None:
        [letter] = scene.listed

        assert letter["type"] == "ucap.city.stakeholder_added.v1"
        assert (letter["subject"], letter["sequence"]) == (CITY, 2)
        assert letter["original_topic"] == scene.cities_topic
        assert letter["consumer_group"] == scene.env["UCAP_MOUS_CONSUMER_GROUP"]
        assert letter["error_kind"] == "handler_failed"
        assert "'NoneType' object is not iterable" in letter["error"]
        assert letter["failed_at"]
        assert letter["replayed"] is False
        assert scene.letter_id in scene.listed_as_table
        assert "handler_failed" in scene.listed_as_table

    def test_shows_in_full_with_its_headers_and_event(self, scene: Scene) -> None:
        shown = scene.shown

        assert shown["headers"]["dlq_original_topic"] == scene.cities_topic
        assert shown["headers"]["content-type"] == "application/cloudevents+json; charset=UTF-8"
        assert shown["type"] == "ucap.city.stakeholder_added.v1"
        assert shown["event_id"] == shown["event"]["id"]
        assert shown["event"]["subject"] == CITY
        assert shown["event"]["data"]["stakeholder"]["stakeholder_id"] == "ciba-town"

    async def test_holds_its_stream_back_in_the_failing_consumer(
        self, scene: Scene, mongo: MongoClient
    ) -> None:
        database = mongo[scene.mous_database]
        position = await database["stream_positions"].find_one({"stream": CITY})
        held = await database["held_events"].find({"stream": CITY}).to_list()

        assert position is not None
        assert position["sequence"] == 1
        assert [event["sequence"] for event in held] == [3]


@pytest.fixture(scope="module")
async def replayed(scene: Scene, infra: Infra) -> AsyncIterator[dict[str, Any]]:
    """The cause fixed, the record replayed: the replay's answer and what changed."""
    mongo = connect_mongo(infra.mongodb_uri)
    try:
        view = mongo[scene.mous_database][CITIES_VIEW]
        await edit(view, 2, [])
        group = scene.env["UCAP_CITIES_CONSUMER_GROUP"]
        skipped_before = await duplicates_skipped(scene.cities, group, scene.cities_topic)

        result = ucap("dlq", "replay", scene.letter_id, "--by", "ops:test", env=scene.env)

        assert result.returncode == 0, result.stderr
        document = await eventually(
            lambda: view.find_one({"_id": CITY, "stakeholder_ids.1": {"$exists": True}}),
            timeout=60,
        )
        skipped_after = await eventually(
            lambda: _more_than(skipped_before, scene, group), timeout=30
        )
        yield {
            "output": result.stdout,
            "document": document,
            "skipped": skipped_after - skipped_before,
        }
    finally:
        await mongo.close()


async def _more_than(before: float, scene: Scene, group: str) -> float | None:
    now = await duplicates_skipped(scene.cities, group, scene.cities_topic)
    return now if now > before else None


class TestReplayingAfterTheFix:
    def test_applies_the_event_and_the_one_held_behind_it(
        self, replayed: dict[str, Any], scene: Scene
    ) -> None:
        assert f"replayed {scene.letter_id} to {scene.cities_topic}" in replayed["output"]
        assert replayed["document"]["stakeholder_ids"] == ["ciba-town", "kangmei-health-city"]

    def test_other_groups_skip_the_copy_as_a_duplicate(self, replayed: dict[str, Any]) -> None:
        assert replayed["skipped"] == 1

    async def test_marks_the_record_replayed_and_dead_letters_nothing_new(
        self, replayed: dict[str, Any], scene: Scene
    ) -> None:
        [letter] = listing(scene.env)

        assert letter["replayed"] is True
        assert letter["replay"]["replayed_by"] == "ops:test"
        assert letter["replay"]["topic"] == scene.cities_topic
        records = await read_topic(scene.env["KAFKA_BOOTSTRAP_SERVERS"], scene.dead_letter_topic)
        assert len(records) == 1

    async def test_sends_it_back_in_structured_mode_for_any_cloudevents_reader(
        self, replayed: dict[str, Any], scene: Scene
    ) -> None:
        records = await read_topic(scene.env["KAFKA_BOOTSTRAP_SERVERS"], scene.cities_topic)
        [copy] = [r for r in records if (REPLAY_HEADER, scene.letter_id.encode()) in r.headers]
        headers = dict(copy.headers)

        assert headers["content-type"] == STRUCTURED_CONTENT_TYPE.encode()
        assert not [name for name in headers if name.startswith(("ce_", "dlq_original"))]
        event = from_kafka(KafkaMessage(headers, copy.key, copy.value), JSONFormat())
        assert event.get_type() == "ucap.city.stakeholder_added.v1"
        assert event.get_extension("aggregateversion") == 2

    def test_does_not_replay_it_again_unless_forced(
        self, replayed: dict[str, Any], scene: Scene
    ) -> None:
        again = ucap("dlq", "replay", scene.letter_id, env=scene.env)
        every = ucap("dlq", "replay", "--all", "--service", "mous", "--json", env=scene.env)

        assert again.returncode == 1
        assert "replayed already" in again.stderr
        assert every.returncode == 0, every.stderr
        outcome = json.loads(every.stdout)
        assert (outcome["replayed"], outcome["replayed_before"]) == ([], [scene.letter_id])


class TestReplayRefuses:
    def test_an_id_with_no_record(self, scene: Scene) -> None:
        result = ucap("dlq", "replay", "mous:0:999999", env=scene.env)

        assert result.returncode == 1
        assert "no dead-lettered record mous:0:999999" in result.stderr
        assert "Traceback" not in result.stderr

    def test_something_that_is_no_id(self, scene: Scene) -> None:
        result = ucap("dlq", "show", "granada", env=scene.env)

        assert result.returncode == 1
        assert "is not a dead-letter id" in result.stderr


def dead_letter(headers: list[tuple[str, bytes]]) -> DeadLetter:
    record = ConsumerRecord(
        topic="ucap.mous.dlq",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"kunming",
        value=b'{"id": "e-1", "type": "ucap.city.stakeholder_added.v1", "sequence": 2}',
        checksum=None,
        serialized_key_size=7,
        serialized_value_size=0,
        headers=headers,
    )
    return DeadLetter(LetterId("mous", 0, 7), record)


LEGACY_HEADERS = [
    ("ce_type", b"ucap.city.stakeholder_added.v1"),
    ("ce_id", b"e-1"),
    ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ("dlq_original_topic", b"ucap.cities.events"),
    ("dlq_error_kind", b"handler_failed"),
]


class TestALetterDeadLetteredBeforeStructuredMode:
    """Records relayed before structured mode carried ``ce_type``/``ce_id`` headers and no
    ``content-type``: the SDK took them for binary mode. Replayed, they no longer do."""

    def test_goes_back_with_the_headers_records_have_now_and_its_others(self) -> None:
        headers = dead_letter(LEGACY_HEADERS).replay_headers()

        assert headers == [
            ("content-type", STRUCTURED_CONTENT_TYPE.encode()),
            ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ]

    def test_is_listed_with_its_id_and_version(self) -> None:
        summary = dead_letter(LEGACY_HEADERS).summary()

        assert (summary["type"], summary["event_id"], summary["sequence"]) == (
            "ucap.city.stakeholder_added.v1",
            "e-1",
            2,
        )

    def test_one_of_now_is_listed_with_the_id_and_version_its_event_carries(self) -> None:
        letter = dead_letter([("content-type", STRUCTURED_CONTENT_TYPE.encode())])
        letter = DeadLetter(
            letter.id,
            dataclasses.replace(
                letter.record,
                value=b'{"id": "e-2", "type": "ucap.city.registered.v1", "aggregateversion": 1}',
            ),
        )

        summary = letter.summary()

        assert (summary["type"], summary["event_id"], summary["sequence"]) == (
            "ucap.city.registered.v1",
            "e-2",
            1,
        )
