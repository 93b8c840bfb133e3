"""What the operators' command (`ucap keys`, the demo's keys) may use of the gateway.

The gateway's key store, found as the gateway finds it (``MONGODB_URI``,
``UCAP_GATEWAY_DATABASE``). Everything else of the gateway is its own.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ucap_gateway.config import Settings
from ucap_gateway.keys import KeyRecord, KeyStore, NewKey
from ucap_shared.mongo import connect_mongo

__all__ = ["KeyRecord", "KeyStore", "NewKey", "key_store_address", "opened_key_store"]


def key_store_address() -> str:
    """The MongoDB address the key store is on, for an operator's error message."""
    return Settings().mongodb_uri


@asynccontextmanager
async def opened_key_store() -> AsyncIterator[KeyStore]:
    settings = Settings()
    mongo = connect_mongo(settings.mongodb_uri)
    store = KeyStore(mongo[settings.database])
    try:
        yield store
    finally:
        await store.touches_written()
        await mongo.close()
