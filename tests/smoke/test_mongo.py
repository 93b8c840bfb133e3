"""The database the tests run against speaks the MongoDB protocol for real."""

import pytest
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from ucap_shared.mongo import MongoClient


class TestMongoProtocol:
    async def test_insert_then_find_returns_the_document(
        self, mongo: MongoClient, unique: str
    ) -> None:
        collection = mongo[f"smoke_{unique}"]["things"]
        await collection.insert_one({"_id": "granada", "name": "Granada", "population": 236000})

        found = await collection.find_one({"name": "Granada"})

        assert found == {"_id": "granada", "name": "Granada", "population": 236000}
        await mongo.drop_database(f"smoke_{unique}")

    async def test_a_unique_index_refuses_a_duplicate(
        self, mongo: MongoClient, unique: str
    ) -> None:
        collection = mongo[f"smoke_{unique}"]["events"]
        await collection.create_index(
            [("aggregate_id", ASCENDING), ("sequence", ASCENDING)], unique=True
        )
        await collection.insert_one({"aggregate_id": "granada", "sequence": 1})

        with pytest.raises(DuplicateKeyError):
            await collection.insert_one({"aggregate_id": "granada", "sequence": 1})

        assert await collection.count_documents({}) == 1
        await mongo.drop_database(f"smoke_{unique}")
