"""A lease in MongoDB: at most one holder at a time, renewed before its deadline."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


class Lease:
    def __init__(
        self, collection: AsyncCollection[dict[str, Any]], name: str, *, ttl_seconds: float
    ) -> None:
        self._collection = collection
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.holder = f"{uuid.uuid4()}"

    async def acquire(self) -> bool:
        """Take or renew the lease; False while another holder's lease runs."""
        now = datetime.now(UTC)
        try:
            result = await self._collection.update_one(
                {"_id": self.name, "$or": [{"holder": self.holder}, {"expires_at": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "expires_at": now + self.ttl, "renewed_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return result.matched_count == 1 or result.upserted_id is not None

    async def release(self) -> None:
        await self._collection.delete_one({"_id": self.name, "holder": self.holder})
