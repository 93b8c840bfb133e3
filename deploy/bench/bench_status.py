"""Benchmark the compiled U-CAP status through the gateway, with wrk.

    make up                                   # the whole system, in the background
    python deploy/bench/bench_status.py [--url http://127.0.0.1:8000] [--seconds 20]

It creates an admin API key (``ucap-gateway keys create``), a lead city with
5 counterpart cities and a U-CAP with 50 pilots among them, waits until the
reporting view holds all 50, then loads the gateway with wrk (Debian's
``wrk``; a Python client would saturate a core before the server does):
``GET /ucaps/<id>/status`` (JSON, then Markdown), and in the same run the
ceiling, ``GET /health/live`` on the same gateway. It prints requests/s,
p50/p99 latency and the ratio to the ceiling.
"""

import argparse
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import httpx

COUNTERPARTS = 5
PILOTS = 50


@dataclass
class Run:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def admin_key() -> str:
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "ucap_gateway",
            "keys",
            "create",
            "--principal",
            "ops:bench",
            "--role",
            "admin",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.strip().splitlines()[-1].split()[-1]


def seed(client: httpx.Client, suffix: str) -> str:
    """A lead, 5 counterparts, a U-CAP and 50 pilots; the U-CAP's id."""
    lead = f"bench-lead-{suffix}"
    counterparts = [f"bench-city-{n}-{suffix}" for n in range(COUNTERPARTS)]
    for city_id, country in [(lead, "ES"), *((c, "CN") for c in counterparts)]:
        client.post(
            "/cities",
            json={
                "id": city_id,
                "name": city_id.title(),
                "country": country,
                "world_region": "Europe" if country == "ES" else "Asia",
                "population": {"known": False},
                "clusters": ["Smart City"],
            },
        ).raise_for_status()
    ucap_id = f"bench-ucap-{suffix}"
    _until_ok(
        lambda: client.post(
            "/ucaps",
            json={
                "id": ucap_id,
                "title": "Benchmark U-CAP",
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
    )
    for n in range(PILOTS):
        pilot = {
            "id": f"{lead}-pilot-{n}",
            "title": f"Pilot {n}",
            "description": "Benchmark pilot",
            "lead_city_id": lead,
            "partners": [{"city_id": counterparts[n % COUNTERPARTS], "role": "partner"}],
            "cluster": "Smart City",
            "themes": ["Smart City and Digital Transition"],
            "sdg_goals": [11],
            "ucap_id": ucap_id,
        }
        _until_ok(partial(client.post, "/pilots", json=pilot))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = client.get(f"/ucaps/{ucap_id}/status").json()
        if status.get("status", {}).get("figures", {}).get("pilots") == PILOTS:
            return ucap_id
        time.sleep(0.5)
    raise SystemExit("the status view did not reach 50 pilots in time")


def _until_ok(send: Callable[[], httpx.Response], timeout: float = 60) -> None:
    """Retry a write refused while the service's view of a referenced city catches up."""
    deadline = time.monotonic() + timeout
    while True:
        response = send()
        if response.status_code in (200, 201, 409):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"seeding failed: {response.status_code} {response.text}")
        time.sleep(0.3)


def wrk(name: str, url: str, key: str, seconds: int, connections: int) -> Run:
    result = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "--latency",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            f"Authorization: Bearer {key}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    return Run(name, rate, _percentile(result.stdout, "50%"), _percentile(result.stdout, "99%"))


def _percentile(output: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", output)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    parser.add_argument("--seconds", type=int, default=20, help="each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--key", help="an admin API key (default: create one)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk, or `make tools`)", file=sys.stderr)
        return 2
    key = args.key or admin_key()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=60) as client:
        print(f"seeding a U-CAP with {COUNTERPARTS} counterparts and {PILOTS} pilots …", flush=True)
        ucap_id = seed(client, uuid.uuid4().hex[:6])
    status_url = f"{args.url}/ucaps/{ucap_id}/status"
    runs = [
        wrk(
            "ceiling: GET /health/live",
            f"{args.url}/health/live",
            key,
            args.seconds,
            args.connections,
        ),
        wrk("GET status (JSON)", f"{status_url}?format=json", key, args.seconds, args.connections),
        wrk(
            "GET status (Markdown)", f"{status_url}?format=md", key, args.seconds, args.connections
        ),
    ]
    ceiling = runs[0].requests_per_second
    print(f"\n{'run':32} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'of ceiling':>11}")
    for run in runs:
        print(
            f"{run.name:32} {run.requests_per_second:9.1f} {run.p50_ms:9.2f} {run.p99_ms:9.2f} "
            f"{run.requests_per_second / ceiling:10.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
