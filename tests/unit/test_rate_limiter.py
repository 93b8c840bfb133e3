"""The gateway's token buckets: per key for requests, per client address for failed
authentications; asking how long to wait counts nothing, and memory stays bounded."""

from ucap_gateway.ratelimit import RateLimiter


class TestBuckets:
    def test_past_the_burst_a_name_waits_and_others_do_not(self) -> None:
        limiter = RateLimiter(per_second=0.01, burst=3)

        taken = [limiter.take("198.51.100.1") for _ in range(3)]

        assert taken == [0.0, 0.0, 0.0]
        assert limiter.wait("198.51.100.1") > 0
        assert limiter.take("198.51.100.1") > 0
        assert limiter.wait("198.51.100.2") == 0

    def test_asking_how_long_to_wait_counts_nothing(self) -> None:
        limiter = RateLimiter(per_second=0.01, burst=2)

        for _ in range(10):
            assert limiter.wait("198.51.100.3") == 0

        assert limiter.take("198.51.100.3") == 0

    def test_retry_after_is_a_whole_second_at_least(self) -> None:
        assert RateLimiter.retry_after(0.2) == "1"
        assert RateLimiter.retry_after(4.1) == "5"


class TestMemory:
    def test_the_buckets_are_bounded_however_many_names_come(self) -> None:
        limiter = RateLimiter(per_second=0.01, burst=2, capacity=100)

        for n in range(1000):
            limiter.take(f"203.0.113.{n}")

        assert len(limiter._buckets) <= 100

    def test_when_every_bucket_still_drains_they_make_way_for_a_new_name(self) -> None:
        limiter = RateLimiter(per_second=0.001, burst=1, capacity=3)
        for name in ("a", "b", "c"):
            limiter.take(name)

        assert limiter.take("d") == 0
        assert set(limiter._buckets) == {"d"}
