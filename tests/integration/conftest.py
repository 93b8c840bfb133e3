"""The tally backbone of one test: its own topics and database on the real servers."""

from collections.abc import AsyncIterator

import pytest

from tests.support.infra import Infra
from tests.support.tally import Backbone
from ucap_shared.mongo import MongoClient
from ucap_shared.topics import ensure_topics


@pytest.fixture
async def backbone(
    infra: Infra, mongo: MongoClient, unique: str, request: pytest.FixtureRequest
) -> AsyncIterator[Backbone]:
    module = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    setup = Backbone(
        bootstrap=infra.kafka_bootstrap_servers,
        database=mongo[f"test_{module}_{unique}"],
        topic=f"ucap.test-{unique}.events",
        dlq=f"ucap.test-{unique}.dlq",
    )
    await ensure_topics(setup.bootstrap, setup.topics())
    await setup.store.create_indexes()
    yield setup
    await mongo.drop_database(setup.database.name)
