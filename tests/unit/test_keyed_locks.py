"""Work on one key at a time, other keys at once, and no lock kept once nobody waits."""

import asyncio

from ucap_shared.keyed_locks import KeyedLocks


async def test_holders_of_one_key_take_turns_and_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    a_inside_when_b_entered: list[int] = []

    async def work(key: str) -> None:
        async with locks.hold(key):
            if key == "b":
                a_inside_when_b_entered.append(inside["a"])
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            await asyncio.sleep(0.01)
            inside[key] -= 1

    await asyncio.gather(*(work(key) for key in "aaaab"))

    assert most == {"a": 1, "b": 1}
    assert a_inside_when_b_entered == [1], "b did not wait for a's turns"
    assert len(locks) == 0


async def test_a_failing_holder_lets_the_next_one_in() -> None:
    locks = KeyedLocks()

    async def fail() -> None:
        async with locks.hold("a"):
            raise RuntimeError("boom")

    results = await asyncio.gather(fail(), fail(), return_exceptions=True)

    assert all(isinstance(result, RuntimeError) for result in results)
    assert len(locks) == 0
