"""The MongoDB client, through PyMongo's async API."""

from typing import Any

from pymongo import AsyncMongoClient

MongoClient = AsyncMongoClient[dict[str, Any]]


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
