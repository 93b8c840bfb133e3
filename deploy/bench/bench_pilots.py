"""Benchmark progress reporting: 5 partner cities posting updates concurrently.

    python deploy/bench/bench_pilots.py [--url http://127.0.0.1:8003] [--seconds 30]
                                        [--concurrency 32] [--pilots-per-city 4]
                                        [--token-key KEY]

Without ``--url`` it starts a pilots service itself (own database, consumer
group and topic namespace) and makes its cities known by publishing ``ucap.city.registered.v1``
events; with ``--url`` the cities granada, haikou, kunming, liuzhou and
zhengzhou must be known to that service already.

Each partner city reports on its own pilots (led by Granada), each request
with a fresh idempotency key; ``--concurrency`` requests are in flight at any
time (an async closed loop). It prints updates/s and p50/p99 latency, then
measures two ceilings with the same client and concurrency: ``GET
/health/live`` (the HTTP stack with no work) and raw MongoDB ``insert_one``
(the store's write path with no HTTP), and the ratios.

Every request sends an admin token for the ``pilots`` audience, signed as
the gateway signs them (``--token-key``, default ``$UCAP_TOKEN_KEY`` or the
development key), so each update pays for its token check as in production;
``/health/live`` is open (its ceiling includes no token check).

The client is Python too: at high rates it may saturate before the server
does, so the hello-world ceiling is as much the client's as the server's.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from ucap_shared.auth import DEVELOPMENT_KEY, Principal, Role, issue_token
from ucap_shared.envelope import Envelope

CITIES = ("granada", "haikou", "kunming", "liuzhou", "zhengzhou")
PARTNERS = (*CITIES[1:], "granada")
"""Five reporting cities: the four counterparts and Granada itself."""
REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_ADMIN = Principal(subject="ops:bench", roles=frozenset({Role.ADMIN}))


@dataclass
class Run:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]

    def line(self) -> str:
        return (
            f"{self.name:<24} {self.rate:>9.0f}/s  p50 {self.percentile(50) * 1000:7.1f} ms  "
            f"p99 {self.percentile(99) * 1000:7.1f} ms  ({len(self.latencies)} ok, "
            f"{self.errors} errors)"
        )


async def drive(
    name: str, seconds: float, concurrency: int, call: Callable[[int, int], Awaitable[bool]]
) -> Run:
    """Keep ``concurrency`` calls in flight for ``seconds``; time each.

    ``call`` gets its worker's number and a number unique to the call.
    """
    run = Run(name)
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker(number: int) -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            counter += 1
            started = time.perf_counter()
            ok = await call(number, counter)
            if ok:
                run.latencies.append(time.perf_counter() - started)
            else:
                run.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(number) for number in range(concurrency)))
    run.seconds = time.perf_counter() - started
    return run


def city_registered(city: str) -> Envelope:
    return Envelope(
        source="ucap/cities",
        type="ucap.city.registered.v1",
        subject=city,
        sequence=1,
        data={"city_id": city, "name": city.title()},
        actor="bench",
    )


async def start_service(
    args: argparse.Namespace, suffix: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = 18000 + int(suffix[:4], 16) % 1000
    env = {
        **os.environ,
        "UCAP_PILOTS_PORT": str(port),
        "UCAP_PILOTS_DATABASE": f"bench_pilots_{suffix}",
        "UCAP_PILOTS_CONSUMER_GROUP": f"pilots-bench-{suffix}",
        "UCAP_LOG_LEVEL": "WARNING",
        # Topics of its own: its fresh consumer group replays nobody else's events meanwhile.
        "UCAP_TOPIC_NAMESPACE": f"bench{suffix}",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        [sys.executable, "-m", "ucap_pilots"], env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(300):
            try:
                if (await client.get("/health/live")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka, acks="all")
    await producer.start()
    try:
        for city in CITIES:
            envelope = city_registered(f"{city}-{suffix}")
            await producer.send_and_wait(
                f"bench{suffix}.cities.events", envelope.to_json(), key=envelope.record_key()
            )
    finally:
        await producer.stop()
    return process, url


async def bench(args: argparse.Namespace) -> None:
    suffix = uuid.uuid4().hex[:8]
    process = None
    if args.url:
        url, city_of = args.url, {city: city for city in CITIES}
    else:
        process, url = await start_service(args, suffix)
        city_of = {city: f"{city}-{suffix}" for city in CITIES}
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    # Valid for the whole run: setting up, measuring, and the ceilings after.
    ttl = int(args.seconds + 2 * args.ceiling_seconds) + 600
    token = issue_token(BENCH_ADMIN, audience="pilots", key=args.token_key, ttl_seconds=ttl)
    auth = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            base_url=url, limits=limits, timeout=60, headers=auth
        ) as client:
            lead = city_of["granada"]
            pilots: list[tuple[str, str]] = []
            for partner in PARTNERS:
                for n in range(args.pilots_per_city):
                    pilot_id = f"{lead}-bench-{suffix}-{partner}-{n}"
                    body = {
                        "id": pilot_id,
                        "title": f"Bench pilot {partner} {n}",
                        "lead_city_id": lead,
                        "partners": (
                            []
                            if partner == "granada"
                            else [{"city_id": city_of[partner], "role": "partner"}]
                        ),
                    }
                    for _ in range(300):  # until the service knows the cities
                        response = await client.post("/pilots", json=body)
                        if response.status_code != 422:
                            break
                        await asyncio.sleep(0.1)
                    response.raise_for_status()
                    pilots.append((pilot_id, city_of[partner]))

            async def report(worker: int, n: int) -> bool:
                # A worker reports on one pilot: with as many pilots as workers, no two
                # requests race on one pilot; with fewer, they do and the service retries.
                pilot_id, city = pilots[worker % len(pilots)]
                response = await client.post(
                    f"/pilots/{pilot_id}/progress",
                    json={
                        "reported_on": "2020-07-15",
                        "reporting_city_id": city,
                        "summary": f"Progress {n} from {city}",
                    },
                    headers={"Idempotency-Key": f"{suffix}-{n}"},
                )
                return response.status_code == 201

            async def live(worker: int, n: int) -> bool:
                return (await client.get("/health/live")).status_code == 200

            progress = await drive("progress updates", args.seconds, args.concurrency, report)
            hello = await drive("GET /health/live", args.ceiling_seconds, args.concurrency, live)

        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(args.mongodb)
        scratch = f"bench_raw_{suffix}"
        try:
            collection = mongo[scratch]["events"]

            async def insert(worker: int, n: int) -> bool:
                await collection.insert_one(
                    {"_id": f"a{n}", "n": n, "data": {"summary": "x" * 200}}
                )
                return True

            raw = await drive("mongo insert_one", args.ceiling_seconds, args.concurrency, insert)
        finally:
            await mongo.drop_database(scratch)
            await mongo.close()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
            cleanup: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(args.mongodb)
            await cleanup.drop_database(f"bench_pilots_{suffix}")
            await cleanup.close()

    print(f"{len(pilots)} pilots, 5 reporting cities, concurrency {args.concurrency}")
    for run in (progress, hello, raw):
        print(run.line())
    print(f"progress / hello-world  {progress.rate / hello.rate:6.1%}" if hello.rate else "")
    print(f"progress / raw insert   {progress.rate / raw.rate:6.1%}" if raw.rate else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default=None, help="a running pilots service; else start one")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--ceiling-seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    parser.add_argument("--pilots-per-city", type=int, default=4)
    parser.add_argument(
        "--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--mongodb", default=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
    )
    parser.add_argument(
        "--token-key",
        default=os.environ.get("UCAP_TOKEN_KEY") or DEVELOPMENT_KEY,
        help="the key service tokens are signed with (default: $UCAP_TOKEN_KEY, else the "
        "development key)",
    )
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
