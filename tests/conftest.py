import os
import uuid

# Tests never touch the topics a developer's `make run` uses, nor a previous run's.
os.environ.setdefault("UCAP_TOPIC_NAMESPACE", f"ucap-test-{uuid.uuid4().hex[:8]}")
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.infra import Infra, provide_infra
from ucap_shared.mongo import MongoClient, connect_mongo


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with provide_infra() as endpoints:
        yield endpoints


@pytest.fixture(scope="session")
def service_env(infra: Infra) -> dict[str, str]:
    """The environment a service process needs to reach the test infrastructure."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "MONGODB_URI": infra.mongodb_uri,
        "UCAP_LOG_LEVEL": "INFO",
    }


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def unique() -> str:
    """A short unique suffix, so tests never share a topic, group or database."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def mongo(infra: Infra) -> AsyncIterator[MongoClient]:
    client = connect_mongo(infra.mongodb_uri)
    try:
        yield client
    finally:
        await client.close()


# `make test-unit` runs `--hypothesis-profile=quick`: a fifth of the examples, for a fast tier.
settings.register_profile("quick", max_examples=20)

END_TO_END_FOLDERS = frozenset({"e2e", "smoke", "scale"})
NEEDS_SERVERS = frozenset({"infra", "service_env", "mongo"})


def tier_of(item: pytest.Item) -> str:
    """``e2e`` for whole processes, ``integration`` for Kafka or MongoDB, else ``unit``."""
    folder = Path(str(item.path)).relative_to(Path(__file__).parent).parts[0]
    if folder in END_TO_END_FOLDERS:
        return "e2e"
    if NEEDS_SERVERS & set(getattr(item, "fixturenames", ())):
        return "integration"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(tier_of(item))
