"""The benchmark's count of the local server's work: the idle stack's share taken off."""

import pytest
from bench_scale import Sustained
from server_work import Reading, Window


def window(spent: int, seconds: float, idle_per_second: float) -> Window:
    return Window(Reading(1_000, 50.0), Reading(1_000 + spent, 50.0 + seconds), idle_per_second)


class TestPerWrite:
    def test_the_idle_stacks_transactions_over_the_window_are_not_the_writes(self) -> None:
        assert window(1_300, 10.0, 10.0).per_write(100) == pytest.approx(12.0)

    def test_a_window_quieter_than_the_idle_rate_counts_nothing_rather_than_less(self) -> None:
        assert window(50, 10.0, 10.0).per_write(100) == 0.0

    def test_no_writes_give_no_figure(self) -> None:
        assert window(1_300, 10.0, 10.0).per_write(0) is None


class TestServerAllows:
    def run(self, per_update: float | None, per_raw_insert: float | None) -> Sustained:
        return Sustained(
            in_flight=8,
            client="wrk",
            seconds=20.0,
            ok=700,
            errors=0,
            updates_per_second=35.0,
            p50_ms=220.0,
            p99_ms=450.0,
            raw_inserts_per_second=600.0,
            server_per_update=per_update,
            server_per_raw_insert=per_raw_insert,
        )

    def test_is_the_raw_rate_at_an_updates_cost_in_inserts(self) -> None:
        assert self.run(12.0, 1.0).server_allows == pytest.approx(50.0)
        assert self.run(12.0, 2.0).server_allows == pytest.approx(100.0)

    def test_is_unknown_without_both_counts(self) -> None:
        assert self.run(None, 1.0).server_allows is None
        assert self.run(12.0, None).server_allows is None
