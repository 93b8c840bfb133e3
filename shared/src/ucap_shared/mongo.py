"""The MongoDB client, through PyMongo's async API."""

from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

MongoClient = AsyncMongoClient[dict[str, Any]]

UPDATES_PER_COMMAND = 100
"""The most update statements ucap sends in one command. FerretDB v1 on PostgreSQL holds
a pool connection for each statement of an update command until the command ends: one
command of more statements than its pool has connections waits for itself forever, and
the server answers no update until it is restarted (400 did so against a pool of 300)."""


def connect_mongo(uri: str, *, timeout_ms: int = 5000) -> MongoClient:
    """Build a client; it connects lazily, so this does no I/O."""
    return AsyncMongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
    )


async def ping_mongo(client: MongoClient) -> None:
    await client.admin.command("ping")


async def update_in_commands(
    collection: AsyncCollection[dict[str, Any]], updates: Sequence[UpdateOne]
) -> None:
    """``updates``, unordered, in commands of at most ``UPDATES_PER_COMMAND`` statements:
    the server runs a command's statements one after another, and the client pays one
    round trip a command."""
    for start in range(0, len(updates), UPDATES_PER_COMMAND):
        await collection.bulk_write(updates[start : start + UPDATES_PER_COMMAND], ordered=False)
