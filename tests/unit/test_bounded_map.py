"""The bounded map behind the process's small caches (tokens, measured sizes)."""

from ucap_shared.bounded import BoundedMap


class TestBoundedMap:
    def test_past_its_capacity_the_entry_put_longest_ago_is_let_go(self) -> None:
        entries: BoundedMap[str, int] = BoundedMap(2)
        entries.put("a", 1)
        entries.put("b", 2)
        entries.put("a", 10)  # put again: now the latest
        entries.put("c", 3)

        assert (entries.get("a"), entries.get("b"), entries.get("c")) == (10, None, 3)
        assert len(entries) == 2

    def test_reading_an_entry_does_not_keep_it_longer(self) -> None:
        entries: BoundedMap[str, int] = BoundedMap(2)
        entries.put("a", 1)
        entries.put("b", 2)
        assert entries.get("a") == 1
        entries.put("c", 3)

        assert entries.get("a") is None

    def test_a_discarded_entry_is_gone_and_discarding_an_absent_one_is_harmless(self) -> None:
        entries: BoundedMap[str, int] = BoundedMap(2)
        entries.put("a", 1)
        entries.discard("a")
        entries.discard("never")

        assert entries.get("a") is None
        assert len(entries) == 0
