"""Benchmark the compiled U-CAP status and its live feeds through the gateway.

    make up                                   # the whole system, in the background
    python deploy/bench/bench_status.py [--url http://127.0.0.1:8000] [--seconds 15]

It makes API keys in the gateway's key store (readers, so the per-key rate
limit is spread over many keys as many clients would), a lead city with 5
counterpart cities and a U-CAP with 50 pilots, and one with 500 pilots, and
waits until the status holds them all. Then, with wrk (Debian's ``wrk``; a
Python client would saturate a core before the server does):

- the ceiling, ``GET /health/live`` on the same gateway, in the same run;
- ``GET /ucaps/<id>/status`` as JSON and as Markdown for Granada (if loaded),
  the 50-pilot and the 500-pilot U-CAP: requests/s, p50/p99, ratio to the
  ceiling, and any answer that was not 2xx. Each U-CAP is read once before its
  runs, and that first read's time printed: a status nobody read for a minute
  is no longer kept, and its first read waits for a whole compile, which the
  wrk runs measure apart from (they measure the kept status). Before the first
  run each key is used once, as keys in use are: the gateway reads a key it
  has not seen and writes its last-used time, once a minute at most;
- 1,000 live viewers of the 50-pilot U-CAP and one progress update, while wrk
  keeps reading its status on 4 connections: the time from the update's
  acknowledgement until each viewer has it (p50, p99, last), and the status
  reads served meanwhile.
"""

import argparse
import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from host_cpu import CpuTimes, share_text, steal_share
from seeding import city_body, until_created

from ucap_gateway.config import Settings
from ucap_gateway.keys import KeyStore
from ucap_shared.auth import Role
from ucap_shared.mongo import connect_mongo

COUNTERPARTS = 5
KEYS = 60
FEEDS_PER_KEY = 50
READERS_MEANWHILE = 4
LUA = """
keys = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. keys[(counter %% #keys) + 1]})
end
"""


@dataclass
class Run:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    not_ok: int
    host_steal: float | None
    """The share of the machine's CPU time the host took meanwhile (None: not known)."""


async def make_keys(count: int, role: Role) -> list[str]:
    """``count`` new keys in the key store the gateway of ``make up`` reads."""
    settings = Settings()
    client = connect_mongo(settings.mongodb_uri)
    try:
        store = KeyStore(client[settings.database])
        return [(await store.create("ops:bench", [role])).secret for _ in range(count)]
    finally:
        await client.close()


async def seed(client: httpx.AsyncClient, pilots: int) -> tuple[str, str, str]:
    """A lead, 5 counterparts, a U-CAP and ``pilots`` pilots: (U-CAP, a pilot, the lead)."""
    suffix = uuid.uuid4().hex[:6]
    lead = f"bench-lead-{suffix}"
    counterparts = [f"bench-city-{n}-{suffix}" for n in range(COUNTERPARTS)]
    for city_id, country in [(lead, "ES"), *((c, "CN") for c in counterparts)]:
        await until_created(client, "/cities", city_body(city_id, country))
    ucap_id = f"bench-ucap-{suffix}"
    await until_created(
        client,
        "/ucaps",
        {
            "id": ucap_id,
            "title": f"Benchmark U-CAP of {pilots} pilots",
            "lead_city_id": lead,
            "counterpart_city_ids": counterparts,
            "period": {"from": "2018-06", "until": "2020-11"},
            "themes": [{"title": "Smart City and Digital Transition", "key_focus": "Pilots"}],
            "sdgs": [9, 11],
            "urban_agenda_themes": ["Digital Transition"],
            "key_challenges": ["Scale"],
            "main_objectives": ["Measure"],
        },
    )
    slots = asyncio.Semaphore(8)

    async def propose(n: int) -> None:
        async with slots:
            await until_created(
                client,
                "/pilots",
                {
                    "id": f"{lead}-pilot-{n}",
                    "title": f"Pilot {n}",
                    "description": "Benchmark pilot",
                    "lead_city_id": lead,
                    "partners": [{"city_id": counterparts[n % COUNTERPARTS], "role": "partner"}],
                    "cluster": "Smart City",
                    "themes": ["Smart City and Digital Transition"],
                    "sdg_goals": [11],
                    "ucap_id": ucap_id,
                },
            )

    await asyncio.gather(*(propose(n) for n in range(pilots)))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = (await client.get(f"/ucaps/{ucap_id}/status")).json()
        if status.get("status", {}).get("figures", {}).get("pilots") == pilots:
            return ucap_id, f"{lead}-pilot-0", lead
        await asyncio.sleep(0.5)
    raise SystemExit(f"the status of {ucap_id} did not reach {pilots} pilots in time")


def wrk(name: str, url: str, script: Path, seconds: int, connections: int) -> Run:
    before = CpuTimes.now()
    result = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "--latency",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    not_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    return Run(
        name,
        rate,
        _percentile(result.stdout, "50%"),
        _percentile(result.stdout, "99%"),
        int(not_ok.group(1)) if not_ok else 0,
        steal_share(before, CpuTimes.now()),
    )


def first_read(url: str, ucap_id: str, key: str) -> float:
    """Milliseconds of one status read (JSON), which makes the gateway keep the status."""
    started = time.perf_counter()
    answer = httpx.get(
        f"{url}/ucaps/{ucap_id}/status", headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    answer.raise_for_status()
    return (time.perf_counter() - started) * 1000


def _percentile(output: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", output)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


class _Viewer(asyncio.Protocol):
    """One live feed, read with as little work per chunk as Python allows: 1,000 of them
    in one process must not be what the figure measures. Notes when the first status
    frame came (``opened``) and when ``marker`` did (``seen``, monotonic)."""

    FIRST = b"event: status"

    def __init__(
        self, request: bytes, marker: bytes, opened: asyncio.Event, seen: "asyncio.Future[float]"
    ) -> None:
        self._request, self._marker, self._opened, self._seen = request, marker, opened, seen
        self._tail = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        # A pattern may straddle two chunks: the last bytes of one, the first of the next.
        edge = self._tail + data[: len(self._marker)]
        if not self._opened.is_set() and (self.FIRST in data or self.FIRST in edge):
            self._opened.set()
        if not self._seen.done() and (self._marker in data or self._marker in edge):
            self._seen.set_result(time.monotonic())
            if self._transport is not None:
                self._transport.close()
        self._tail = data[-len(self._marker) :]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._seen.done():
            self._seen.set_exception(RuntimeError("a live feed closed before the change came"))


async def _viewer(
    host: str, port: int, path: str, key: str, marker: bytes, opened: asyncio.Event
) -> float:
    """Follow the feed until ``marker`` arrives; the monotonic time it did."""
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[float] = loop.create_future()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    transport, _ = await loop.create_connection(
        lambda: _Viewer(request, marker, opened, seen), host, port
    )
    try:
        return await seen
    finally:
        transport.close()


async def viewers(
    url: str, ucap_id: str, pilot: str, lead: str, keys: list[str], admin: str, count: int
) -> list[float]:
    """Seconds from an acknowledged progress update until each of ``count`` viewers has it."""
    parsed = httpx.URL(url)
    marker = f"Seen by {count} viewers {uuid.uuid4().hex[:6]}"
    opened = [asyncio.Event() for _ in range(count)]
    tasks = [
        asyncio.create_task(
            _viewer(
                parsed.host,
                parsed.port or 80,
                f"/ucaps/{ucap_id}/live",
                keys[n // FEEDS_PER_KEY],
                marker.encode(),
                opened[n],
            )
        )
        for n in range(count)
    ]
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in opened)), 120)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30
    ) as client:
        answer = await client.post(
            f"/pilots/{pilot}/progress",
            json={"reported_on": "2020-07-15", "reporting_city_id": lead, "summary": marker},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        answer.raise_for_status()
    acknowledged = time.monotonic()
    received = await asyncio.wait_for(asyncio.gather(*tasks), 120)
    return sorted(moment - acknowledged for moment in received)


def _quantile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


async def prepare(url: str, admin: str) -> tuple[tuple[str, str, str], str]:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=60
    ) as client:
        print("seeding a U-CAP of 50 pilots and one of 500 …", flush=True)
        fifty = await seed(client, 50)
        five_hundred = await seed(client, 500)
        return fifty, five_hundred[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk, or `make tools`)", file=sys.stderr)
        return 2
    admin = asyncio.run(make_keys(1, Role.ADMIN))[0]
    readers = asyncio.run(make_keys(max(KEYS, args.viewers // FEEDS_PER_KEY + 1), Role.READER))
    (fifty, pilot, lead), five_hundred = asyncio.run(prepare(args.url, admin))
    has_granada = (
        httpx.get(
            f"{args.url}/ucaps/granada-ucap/status",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        ).status_code
        == 200
    )
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "keys.lua"
        script.write_text(LUA % ", ".join(f'"{key}"' for key in readers[:KEYS]))
        targets = [("Granada", "granada-ucap")] if has_granada else []
        targets += [("50 pilots", fifty), ("500 pilots", five_hundred)]
        runs = [
            wrk(
                "ceiling: GET /health/live",
                f"{args.url}/health/live",
                script,
                args.seconds,
                args.connections,
            )
        ]
        first_reads: dict[str, float] = {}
        for label, ucap_id in targets:
            first_reads[label] = first_read(args.url, ucap_id, readers[0])
            if label == targets[0][0]:
                for key in readers[1:KEYS]:
                    first_read(args.url, ucap_id, key)
            for fmt, shown in (("json", "JSON"), ("md", "Markdown")):
                runs.append(
                    wrk(
                        f"status {shown}, {label}",
                        f"{args.url}/ucaps/{ucap_id}/status?format={fmt}",
                        script,
                        args.seconds,
                        args.connections,
                    )
                )
        print(
            f"{args.viewers} live viewers of the 50-pilot U-CAP, while wrk reads its status "
            f"on {READERS_MEANWHILE} connections …"
        )
        background = subprocess.Popen(
            [
                shutil.which("wrk") or "wrk",
                "-t1",
                f"-c{READERS_MEANWHILE}",
                "-d120s",
                "-s",
                str(script),
                f"{args.url}/ucaps/{fifty}/status",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        before_viewers = CpuTimes.now()
        try:
            delays = asyncio.run(
                viewers(args.url, fifty, pilot, lead, readers, admin, args.viewers)
            )
        finally:
            background.send_signal(signal.SIGINT)  # wrk prints what it measured, then exits
            meanwhile, _ = background.communicate(timeout=30)
        viewers_steal = steal_share(before_viewers, CpuTimes.now())
    reads = re.search(r"Requests/sec:\s+([\d.]+)", meanwhile)
    reads_per_second = float(reads.group(1)) if reads else float("nan")
    ceiling = runs[0].requests_per_second
    print(
        f"\n{'run':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'of ceiling':>11} {'not 2xx':>8}"
        f" {'host steal':>11}"
    )
    for run in runs:
        print(
            f"{run.name:34} {run.requests_per_second:9.1f} {run.p50_ms:8.2f} {run.p99_ms:8.2f} "
            f"{run.requests_per_second / ceiling:10.1%} {run.not_ok:8d} "
            f"{share_text(run.host_steal):>11}"
        )
    print(
        "first read of each U-CAP before its runs (a compile if it was not kept): "
        + ", ".join(f"{label} {ms:.0f} ms" for label, ms in first_reads.items())
    )
    p50, p99, last = _quantile(delays, 0.5), _quantile(delays, 0.99), delays[-1]
    print(
        f"\n{len(delays)} viewers had the change after the update's acknowledgement: "
        f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, last {last * 1000:.0f} ms "
        f"(status reads meanwhile: {reads_per_second:.0f}/s; "
        f"host steal {share_text(viewers_steal)})"
    )
    print(
        "host steal: the share of this machine's CPU time its host took back during the run "
        "(a busy neighbour on a virtual machine); runs with much of it measure the host"
    )
    if args.json:
        figures = {
            "runs": [run.__dict__ for run in runs],
            "viewers": {
                "count": len(delays),
                "p50_s": p50,
                "p99_s": p99,
                "last_s": last,
                "status_reads_per_second_meanwhile": reads_per_second,
                "host_steal": viewers_steal,
            },
            "first_read_ms": first_reads,
        }
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
