"""``update_in_commands`` sends every update, unordered, never more than
``UPDATES_PER_COMMAND`` in one command (the server behind it is tested in
tests/integration/test_wide_updates.py)."""

from typing import Any, cast

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from ucap_shared.mongo import UPDATES_PER_COMMAND, update_in_commands


class CommandsSent:
    """Stands in for a collection: keeps each ``bulk_write`` it is asked for."""

    def __init__(self) -> None:
        self.commands: list[tuple[list[UpdateOne], bool]] = []

    async def bulk_write(self, requests: list[UpdateOne], *, ordered: bool) -> None:
        self.commands.append((list(requests), ordered))


def updates(count: int) -> list[UpdateOne]:
    return [UpdateOne({"_id": n}, {"$set": {"seen": True}}) for n in range(count)]


async def sent(count: int) -> CommandsSent:
    collection = CommandsSent()
    await update_in_commands(cast(AsyncCollection[dict[str, Any]], collection), updates(count))
    return collection


class TestUpdateInCommands:
    async def test_more_than_one_command_holds_each_update_once_in_order(self) -> None:
        count = 2 * UPDATES_PER_COMMAND + 7

        collection = await sent(count)

        sizes = [len(requests) for requests, _ in collection.commands]
        assert sizes == [UPDATES_PER_COMMAND, UPDATES_PER_COMMAND, 7]
        assert [update for requests, _ in collection.commands for update in requests] == updates(
            count
        )
        assert {ordered for _, ordered in collection.commands} == {False}

    async def test_a_full_command_is_sent_whole(self) -> None:
        collection = await sent(UPDATES_PER_COMMAND)

        assert [len(requests) for requests, _ in collection.commands] == [UPDATES_PER_COMMAND]

    async def test_nothing_to_update_sends_nothing(self) -> None:
        collection = await sent(0)

        assert collection.commands == []
