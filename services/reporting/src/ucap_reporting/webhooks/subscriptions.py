"""Subscriptions: who wants which kinds of change of which U-CAPs, sent where.

A subscription is created and deleted, never edited (to change one, register anew and
delete the old), so no write of it races another. Its secret is kept to sign
deliveries and is shown to no one after registration.
"""

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.auth import Principal

SUBSCRIPTIONS = "webhook_subscriptions"
Document = dict[str, Any]
Database = AsyncDatabase[Document]


class ChangeKind(StrEnum):
    STATUS_CHANGED = "status_changed"
    """Any event applied to the U-CAP's status: its own, its cities', MoUs' or pilots'."""
    MILESTONE_OVERDUE = "milestone_overdue"
    """A milestone of one of its pilots is past its planned date and not done."""
    MOU_SIGNED = "mou_signed"
    """A party signed a MoU to which the U-CAP's lead city is a party."""


class Subscription(BaseModel):
    subscription_id: str = Field(examples=["wh-3f6c0e9a1b2d4c5e"])
    url: str = Field(examples=["https://partner.example.org/ucap-hooks"])
    ucap_ids: list[str]
    kinds: list[ChangeKind]
    owner: str = Field(description="Who registered it: `city:granada`, `ops:<name>`")
    city_id: str | None = Field(description="The city it was registered for; null: an admin")
    created_at: datetime
    description: str | None = None


def new_subscription_id() -> str:
    return f"wh-{uuid.uuid4().hex[:16]}"


async def create_indexes(database: Database) -> None:
    subscriptions = database[SUBSCRIPTIONS]
    await subscriptions.create_index([("ucap_ids", ASCENDING)])
    await subscriptions.create_index([("kinds", ASCENDING)])
    await subscriptions.create_index([("city_id", ASCENDING)])


async def insert(
    database: Database,
    *,
    caller: Principal,
    url: str,
    ucap_ids: list[str],
    kinds: list[ChangeKind],
    secret: str,
    description: str | None,
) -> Subscription:
    subscription = Subscription(
        subscription_id=new_subscription_id(),
        url=url,
        ucap_ids=sorted(set(ucap_ids)),
        kinds=sorted(set(kinds)),
        owner=caller.subject,
        city_id=None if caller.is_admin else caller.city_id,
        created_at=datetime.now(UTC),
        description=description,
    )
    document = subscription.model_dump(mode="json", exclude={"subscription_id", "created_at"})
    await database[SUBSCRIPTIONS].insert_one(
        {
            "_id": subscription.subscription_id,
            **document,
            "created_at": subscription.created_at,
            "secret": secret,
        }
    )
    return subscription


def subscription_of(document: Document) -> Subscription:
    created_at: datetime = document["created_at"]
    return Subscription.model_validate(
        {
            **{k: v for k, v in document.items() if k not in ("_id", "secret")},
            "subscription_id": document["_id"],
            "created_at": created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC),
        }
    )


async def find(database: Database, subscription_id: str) -> Document | None:
    """The stored document, secret included (for signing), or None."""
    return await database[SUBSCRIPTIONS].find_one({"_id": subscription_id})


async def of_city(database: Database, city_id: str | None) -> list[Subscription]:
    """A city's subscriptions, or (``None``) every one, by id."""
    query: Document = {} if city_id is None else {"city_id": city_id}
    documents = await database[SUBSCRIPTIONS].find(query).sort("_id", ASCENDING).to_list()
    return [subscription_of(document) for document in documents]


async def for_ucap(database: Database, ucap_id: str) -> list[Document]:
    """Every subscription naming this U-CAP: one equality on an indexed field."""
    return await database[SUBSCRIPTIONS].find({"ucap_ids": ucap_id}).to_list()


async def wanting(database: Database, kind: ChangeKind) -> list[Document]:
    return await database[SUBSCRIPTIONS].find({"kinds": kind.value}).to_list()


async def delete(database: Database, subscription_id: str) -> bool:
    result = await database[SUBSCRIPTIONS].delete_one({"_id": subscription_id})
    return result.deleted_count == 1
