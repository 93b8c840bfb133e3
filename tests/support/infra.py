"""Where the tests find Kafka and a MongoDB-protocol server.

In order: endpoints from the environment (``KAFKA_BOOTSTRAP_SERVERS``,
``MONGODB_URI``); containers, when a container engine answers or
``UCAP_TEST_INFRA=containers`` asks for them; else the local processes that
``deploy/local/ucap_infra.py`` manages.
"""

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from tests.support.processes import free_port
from ucap_shared.mongo import MongoClient, ping_mongo

if TYPE_CHECKING:
    import ucap_infra

KAFKA_IMAGE = "apache/kafka:4.1.1"
MONGO_IMAGE = "mongo:8.0"


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap_servers: str
    mongodb_uri: str
    origin: str


def container_engine_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run([docker, "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@contextmanager
def containers() -> Iterator[Infra]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with ExitStack() as stack:
        kafka = stack.enter_context(KafkaContainer(KAFKA_IMAGE).with_kraft())
        mongo = stack.enter_context(MongoDbContainer(MONGO_IMAGE))
        yield Infra(
            kafka_bootstrap_servers=kafka.get_bootstrap_server(),
            mongodb_uri=mongo.get_connection_url(),
            origin="containers",
        )


@contextmanager
def local_processes() -> Iterator[Infra]:
    import ucap_infra

    asyncio.run(ucap_infra.up())
    kafka, mongo = ucap_infra.KafkaServer.from_env(), ucap_infra.FerretDBServer.from_env()
    yield Infra(
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap),
        mongodb_uri=os.environ.get("MONGODB_URI", mongo.uri),
        origin="local",
    )


@contextmanager
def provide_infra() -> Iterator[Infra]:
    choice = os.environ.get("UCAP_TEST_INFRA", "auto")
    kafka_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo_env = os.environ.get("MONGODB_URI")
    if choice in ("auto", "env") and kafka_env and mongo_env:
        yield Infra(kafka_env, mongo_env, origin="environment")
    elif choice == "containers" or (choice == "auto" and container_engine_answers()):
        with containers() as infra:
            yield infra
    else:
        with local_processes() as infra:
            yield infra


async def ferretdb_of_its_own(name: str) -> "ucap_infra.FerretDBServer":
    """A FerretDB process for one test on the local PostgreSQL, built, not yet started:
    stopping it disturbs nothing else. Skips the test where no local PostgreSQL answers."""
    import ucap_infra

    postgres = ucap_infra.PostgresServer.from_env()
    try:
        await postgres.ping()
    except (ucap_infra.InfraError, OSError) as error:
        pytest.skip(f"no local PostgreSQL for a FerretDB of its own: {error}")
    server = ucap_infra.FerretDBServer(
        port=free_port(), postgresql_url=postgres.ferretdb_url, name=f"ferretdb-test-{name}"
    )
    server.prepare()
    return server


async def answers_ping(client: MongoClient) -> bool:
    """Whether the server behind ``client`` answers a ping now (for a poll until it does)."""
    try:
        await ping_mongo(client)
    except Exception:  # noqa: BLE001 - not up yet
        return False
    return True
