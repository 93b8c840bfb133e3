"""Retries wait with full jitter: replicas that failed together do not retry together."""

import random
import statistics

import pytest
from tenacity import AsyncRetrying

from ucap_shared.backoff import Backoff, bounded_retries

REPLICAS = 200


class TestBackoff:
    def test_the_bound_doubles_with_each_failure_in_a_row_up_to_the_most(self) -> None:
        backoff = Backoff(first=0.5, most=10.0, rng=random.Random(1))
        bounds = []
        for _ in range(7):
            backoff.next_wait()
            bounds.append(backoff.bound())
        assert bounds == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]

    def test_each_wait_is_drawn_between_zero_and_the_bound(self) -> None:
        backoff = Backoff(first=0.2, most=3.0, rng=random.Random(2))
        for _ in range(500):
            wait = backoff.next_wait()
            assert 0 <= wait <= backoff.bound()

    def test_replicas_failing_together_spread_their_retries_over_the_whole_window(
        self,
    ) -> None:
        """Kafka returns: 200 replicas each on their fourth failure in a row (bound 4 s)."""
        waits = []
        for seed in range(REPLICAS):
            backoff = Backoff(first=0.5, most=10.0, rng=random.Random(seed))
            for _ in range(3):
                backoff.next_wait()
            waits.append(backoff.next_wait())
        assert len({round(wait, 3) for wait in waits}) > REPLICAS * 0.9
        assert min(waits) < 0.4
        assert max(waits) > 3.6
        assert 1.6 < statistics.mean(waits) < 2.4

    def test_a_success_starts_the_count_over(self) -> None:
        backoff = Backoff(first=0.5, most=10.0)
        for _ in range(5):
            backoff.next_wait()
        backoff.reset()
        assert backoff.next_wait() <= 0.5

    def test_refuses_a_first_wait_above_the_most(self) -> None:
        with pytest.raises(ValueError, match="first <= most"):
            Backoff(first=5.0, most=1.0)


class RefusedError(Exception):
    pass


class Step:
    """A step that raises ``error`` at every try, counting them."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.tries = 0

    async def run(self, retries: AsyncRetrying) -> None:
        async for attempt in retries:
            with attempt:
                self.tries += 1
                raise self.error


class TestBoundedRetries:
    async def test_tries_the_step_the_given_times_with_jittered_waits_then_raises(
        self,
    ) -> None:
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        step = Step(RefusedError())
        retries = bounded_retries(attempts=4, first=1.0, most=3.0, on=RefusedError, sleep=sleep)
        with pytest.raises(RefusedError):
            await step.run(retries)

        assert step.tries == 4
        assert len(waits) == 3
        assert all(0 <= wait <= bound for wait, bound in zip(waits, [1.0, 2.0, 3.0], strict=True))

    async def test_retries_wait_differently_each_time(self) -> None:
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        for _ in range(50):
            retries = bounded_retries(attempts=2, first=1.0, most=1.0, sleep=sleep)
            with pytest.raises(RefusedError):
                await Step(RefusedError()).run(retries)
        assert len({round(wait, 4) for wait in waits}) > 45
        assert min(waits) < 0.2
        assert max(waits) > 0.8

    async def test_an_error_it_is_not_for_is_raised_at_once(self) -> None:
        async def sleep(seconds: float) -> None:
            raise AssertionError("no wait expected")

        step = Step(KeyError("not a refusal"))
        retries = bounded_retries(attempts=5, first=0.1, most=1.0, on=RefusedError, sleep=sleep)
        with pytest.raises(KeyError):
            await step.run(retries)
        assert step.tries == 1

    async def test_a_step_that_succeeds_is_not_tried_again(self) -> None:
        tries = 0
        async for attempt in bounded_retries(attempts=5, first=0.1, most=1.0):
            with attempt:
                tries += 1
        assert tries == 1
