"""A token bucket per name (an API key, a client address): a burst, then a steady rate;
429 with Retry-After past it.

Kept in the memory of one gateway process: with several replicas each allows
its own burst (the limit then holds per replica, which is what protects it).
"""

import math
import time
from dataclasses import dataclass

BUCKETS_AT_MOST = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, *, per_second: float, burst: int, capacity: int = BUCKETS_AT_MOST) -> None:
        self.per_second = per_second
        self.burst = burst
        self.capacity = capacity
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """0 when the request may go on (and it is counted); else the seconds until it may."""
        bucket = self._filled(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second

    def wait(self, key: str) -> float:
        """The seconds until ``key`` may go on, counting nothing: 0 when it may now."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = self._refilled(bucket, time.monotonic())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.per_second

    def _filled(self, key: str) -> _Bucket:
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.capacity:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = self._refilled(bucket, now)
        bucket.updated = now
        return bucket

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have filled up again (they hold nothing a new one would not);
        if every one is still draining, all of them: memory stays bounded whoever calls."""
        refill = self.burst / self.per_second
        self._buckets = {
            key: bucket for key, bucket in self._buckets.items() if now - bucket.updated < refill
        }
        if len(self._buckets) >= self.capacity:
            self._buckets.clear()

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
