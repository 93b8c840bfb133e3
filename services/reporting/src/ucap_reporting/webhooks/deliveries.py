"""The outbox of webhook deliveries, and each one's tries.

Writers, so that no two race on one document (FerretDB's updates are not atomic):

- a consumer (or the overdue check) *inserts* a delivery; its ``_id`` is derived from
  the subscription, the event (or overdue milestone) and the kind, so a second insert
  of the same one fails on the unique ``_id`` and changes nothing;
- the worker, the one lease holder, updates pending deliveries (tries, outcome);
- an operator's ``redeliver`` updates only dead ones (back to pending), which the
  worker does not touch; two redelivers of one write the same.
"""

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

DELIVERIES = "webhook_deliveries"
ERROR_CHARS = 500
Document = dict[str, Any]
Database = AsyncDatabase[Document]


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class Delivery(BaseModel):
    """A delivery as the worker and the ``ucap webhooks`` commands read it."""

    delivery_id: str
    subscription_id: str
    ucap_id: str
    kind: str
    url: str
    body: str
    state: DeliveryState
    tries: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    dead_at: datetime | None = None
    redelivered_by: str | None = None


def delivery_id(subscription_id: str, cause: str, kind: str) -> str:
    """One delivery per subscription, cause (an event's id, an overdue milestone) and kind."""
    return f"{subscription_id}:{kind}:{cause}"


async def create_indexes(database: Database) -> None:
    deliveries = database[DELIVERIES]
    await deliveries.create_index([("state", ASCENDING)])
    await deliveries.create_index([("subscription_id", ASCENDING)])


def body_of(
    delivery_id: str, subscription: Document, ucap_id: str, kind: str, what: Document
) -> str:
    """The JSON the receiver gets, fixed once so that every try signs the same bytes."""
    payload = {
        "delivery_id": delivery_id,
        "subscription_id": subscription["_id"],
        "kind": kind,
        "ucap_id": ucap_id,
        **what,
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


async def enqueue(
    database: Database,
    subscription: Document,
    *,
    ucap_id: str,
    kind: str,
    cause: str,
    what: Document,
) -> bool:
    """Insert the delivery; False if it was already there (the same cause seen again)."""
    now = datetime.now(UTC)
    identifier = delivery_id(subscription["_id"], cause, kind)
    try:
        await database[DELIVERIES].insert_one(
            {
                "_id": identifier,
                "subscription_id": subscription["_id"],
                "ucap_id": ucap_id,
                "kind": kind,
                "url": subscription["url"],
                "body": body_of(identifier, subscription, ucap_id, kind, what),
                "state": DeliveryState.PENDING.value,
                "tries": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
        )
    except DuplicateKeyError:
        return False
    return True


def delivery_of(document: Document) -> Delivery:
    fields = {k: _utc(v) for k, v in document.items() if k != "_id"}
    return Delivery.model_validate({**fields, "delivery_id": document["_id"]})


def _utc(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def due(database: Database, now: datetime, limit: int) -> list[Delivery]:
    """Pending deliveries whose next try is due: the equality on ``state`` selects pending
    ones only (delivered and dead ones cost nothing); the time is compared among those."""
    cursor = database[DELIVERIES].find(
        {"state": DeliveryState.PENDING.value, "next_attempt_at": {"$lte": now}}
    )
    return [delivery_of(document) for document in await cursor.limit(limit).to_list()]


async def record_success(database: Database, delivery: Delivery, status: int) -> None:
    now = datetime.now(UTC)
    await database[DELIVERIES].update_one(
        {"_id": delivery.delivery_id},
        {
            "$set": {
                "state": DeliveryState.DELIVERED.value,
                "tries": delivery.tries + 1,
                "last_attempt_at": now,
                "last_status": status,
                "last_error": None,
                "delivered_at": now,
                "next_attempt_at": None,
            }
        },
    )


async def record_failure(
    database: Database,
    delivery: Delivery,
    *,
    status: int | None,
    error: str,
    retry_at: datetime | None,
) -> None:
    """One failed try: the next one at ``retry_at``, or (None) dead-lettered."""
    now = datetime.now(UTC)
    state = DeliveryState.PENDING if retry_at is not None else DeliveryState.DEAD
    await database[DELIVERIES].update_one(
        {"_id": delivery.delivery_id},
        {
            "$set": {
                "state": state.value,
                "tries": delivery.tries + 1,
                "last_attempt_at": now,
                "last_status": status,
                "last_error": error[:ERROR_CHARS],
                "next_attempt_at": retry_at,
                "dead_at": None if retry_at is not None else now,
            }
        },
    )


async def listed(
    database: Database,
    *,
    state: DeliveryState | None = None,
    subscription_id: str | None = None,
    limit: int = 0,
) -> list[Delivery]:
    """Deliveries by id, of one state or subscription (each an indexed equality); at most
    ``limit`` of them (0: all)."""
    query: Document = {}
    if state is not None:
        query["state"] = state.value
    if subscription_id is not None:
        query["subscription_id"] = subscription_id
    cursor = database[DELIVERIES].find(query).sort("_id", ASCENDING).limit(limit)
    return [delivery_of(document) for document in await cursor.to_list()]


async def redeliver(database: Database, delivery_id: str, *, by: str) -> bool:
    """A dead delivery pending again, with its tries counted anew; False if not dead."""
    found = await database[DELIVERIES].find_one({"_id": delivery_id})
    if found is None or found["state"] != DeliveryState.DEAD.value:
        return False
    await database[DELIVERIES].update_one(
        {"_id": delivery_id},
        {
            "$set": {
                "state": DeliveryState.PENDING.value,
                "tries": 0,
                "next_attempt_at": datetime.now(UTC),
                "redelivered_by": by,
            }
        },
    )
    return True
