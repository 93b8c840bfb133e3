"""Simulated partner city systems: progress and milestones for the demo pilots, steadily.

    make demo-feed [ARGS="--rate 2"]
    python deploy/demo/feed.py [--rate 0.5] [--count N] [--ucap ID] [--gateway URL]
                               [--credentials FILE]

Each city of the demo posts through the gateway with its own publisher key, as
its own system would: progress updates (reported today, by that city, with an
idempotency key; indicator values, where a pilot has indicators, step from the
latest value towards the target and never past it) and now and then the
completion of a milestone still open. The keys come from the demo credentials
``make run`` writes, ``$UCAP_RUN_DIR/demo-credentials.json`` (``.run/`` by
default). One line per post; Ctrl-C stops it.
"""

import argparse
import json
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
CLOSED = frozenset({"completed", "cancelled"})
MILESTONE_SHARE = 0.3
SUMMARIES = (
    "Coordination call between the city teams on the next steps",
    "Workshop with local stakeholders held; {n} participants",
    "Work plan for the coming quarter shared with the partner cities",
    "Online meeting with the partner city on funding options",
    "Study visit prepared: agenda and participants agreed",
    "Progress report sent to the IUC regional desk",
    "Joint communication published on both cities' websites",
)
Pilot = dict[str, Any]


class FeedError(Exception):
    """Something the person running the feed must fix; said in one line."""


@dataclass(frozen=True)
class Credentials:
    gateway: str
    city_keys: dict[str, str]


def default_credentials_path() -> Path:
    return Path(os.environ.get("UCAP_RUN_DIR") or REPO / ".run") / "demo-credentials.json"


def read_credentials(path: Path) -> Credentials:
    if not path.is_file():
        raise FeedError(f"no demo credentials at {path}: run `make run` first")
    try:
        document = json.loads(path.read_text())
        keys = {
            principal.removeprefix("city:"): entry["key"]
            for principal, entry in document["keys"].items()
            if principal.startswith("city:") and "publisher" in entry.get("roles", [])
        }
        gateway = str(document["gateway"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise FeedError(f"{path} is not a demo credentials file ({error!r})") from error
    if not keys:
        raise FeedError(f"{path} holds no city publisher key: run `make run` again")
    return Credentials(gateway=gateway.rstrip("/"), city_keys=keys)


class Gateway:
    """The gateway as one city's system sees it: every request with that city's key."""

    def __init__(self, client: httpx.Client, keys: dict[str, str]) -> None:
        self._client = client
        self._keys = keys

    def call(
        self,
        city: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self._keys[city]}", **(headers or {})}
        try:
            return self._client.request(method, path, params=params, json=body, headers=sent)
        except httpx.TransportError as error:
            where = self._client.base_url
            raise FeedError(f"cannot reach the gateway at {where}: {error}") from error

    def pilots_of(self, city: str, ucap: str | None) -> list[Pilot]:
        pilots: list[Pilot] = []
        params: dict[str, str] = {"city": city, "limit": "200", **({"ucap": ucap} if ucap else {})}
        while True:
            answer = self.call(city, "GET", "/pilots", params=params)
            if answer.status_code != 200:
                raise FeedError(f"listing {city}'s pilots: HTTP {answer.status_code} {answer.text}")
            page = answer.json()
            pilots += [p for p in page["items"] if p["status"] not in CLOSED]
            if not page.get("next_cursor"):
                return pilots
            params["cursor"] = page["next_cursor"]


def indicator_values(pilot: Pilot) -> list[dict[str, Any]]:
    """For each indicator with room left below its target, a step towards it."""
    values = []
    for indicator in pilot.get("indicators", []):
        start = (indicator.get("latest") or indicator.get("baseline") or {}).get("value", 0.0)
        target = (indicator.get("target") or {}).get("value")
        if target is not None and start >= target:
            continue
        step = max((target - start) / 4, 1.0) if target is not None else 1.0
        value = start + step if target is None else min(target, start + step)
        values.append({"indicator_id": indicator["id"], "value": round(value, 2)})
    return values


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def report_progress(gateway: Gateway, city: str, pilot: Pilot, rng: random.Random) -> str:
    summary = rng.choice(SUMMARIES).format(n=rng.randint(12, 80))
    body: dict[str, Any] = {
        "reported_on": today(),
        "reporting_city_id": city,
        "summary": f"{summary} (from {city}, {datetime.now().strftime('%H:%M:%S')})",
        "indicator_values": indicator_values(pilot),
    }
    key = f"demo-feed-{city}-{uuid.uuid4().hex}"
    answer = gateway.call(
        city, "POST", f"/pilots/{pilot['id']}/progress", body=body, headers={"Idempotency-Key": key}
    )
    return _line(city, "progress", pilot["id"], body["summary"], answer)


def complete_milestone(gateway: Gateway, city: str, pilot: Pilot, milestone: Pilot) -> str:
    answer = gateway.call(
        city,
        "POST",
        f"/pilots/{pilot['id']}/milestones/{milestone['id']}/complete",
        body={"completed_on": today()},
    )
    return _line(city, "milestone", pilot["id"], f"{milestone['title']} reached", answer)


def _line(city: str, kind: str, pilot_id: str, what: str, answer: httpx.Response) -> str:
    outcome = "ok" if answer.is_success else f"refused: {answer.text[:200]}"
    clock = datetime.now().strftime("%H:%M:%S")
    return f"{clock} {city:<10} {kind:<9} {pilot_id}: {what} -> {answer.status_code} {outcome}"


def post_one(gateway: Gateway, city: str, pilot_id: str, rng: random.Random) -> str:
    """One post for ``city`` on the pilot as it stands now (its milestones may have moved)."""
    found = gateway.call(city, "GET", f"/pilots/{pilot_id}")
    if found.status_code != 200:
        return _line(city, "read", pilot_id, "pilot not readable", found)
    pilot: Pilot = found.json()
    open_milestones = sorted(
        (m for m in pilot["milestones"] if m["completed_on"] is None),
        key=lambda m: str(m["planned_on"]),
    )
    if open_milestones and rng.random() < MILESTONE_SHARE:
        return complete_milestone(gateway, city, pilot, open_milestones[0])
    return report_progress(gateway, city, pilot, rng)


def schedule(rate: float, count: int | None) -> Iterator[int]:
    """0, 1, 2 … at ``rate`` per second, waiting for each one's turn (not drifting)."""
    started = time.monotonic()
    number = 0
    while count is None or number < count:
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield number
        number += 1


def run(args: argparse.Namespace) -> int:
    credentials = read_credentials(args.credentials)
    base = (args.gateway or credentials.gateway).rstrip("/")
    rng = random.Random(args.seed)  # noqa: S311 - made-up demo data, nothing secret
    with httpx.Client(base_url=base, timeout=15) as client:
        gateway = Gateway(client, credentials.city_keys)
        pilots = {
            city: gateway.pilots_of(city, args.ucap) for city in sorted(credentials.city_keys)
        }
        plan = [(city, pilot["id"]) for city, theirs in pilots.items() for pilot in theirs]
        if not plan:
            raise FeedError("no open pilot for the demo cities: load the demo data (`make run`)")
        rng.shuffle(plan)
        ucaps = sorted({p["ucap_id"] for theirs in pilots.values() for p in theirs if p["ucap_id"]})
        print(f"feeding {len(plan)} city-pilot pairs through {base} at {args.rate:g}/s", flush=True)
        for ucap in ucaps:
            page = f"{base}/ucaps/{ucap}/status?format=html"
            print(f"watch: {page} (a browser logs in with a key of {args.credentials})", flush=True)
        posted = 0
        turns = cycle(plan)
        try:
            for _ in schedule(args.rate, args.count):
                city, pilot_id = next(turns)
                try:
                    print(post_one(gateway, city, pilot_id, rng), flush=True)
                except FeedError as error:
                    print(f"{datetime.now():%H:%M:%S} {city:<10} failed    {error}", flush=True)
                posted += 1
        except KeyboardInterrupt:
            print(f"\nstopped after {posted} posts", flush=True)
            return 0
    print(f"done: {posted} posts", flush=True)
    return 0


def positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=positive, default=0.5, help="posts per second (0.5)")
    parser.add_argument("--count", type=int, default=None, help="stop after this many posts")
    parser.add_argument("--ucap", default=None, help="only the pilots of this U-CAP")
    parser.add_argument("--gateway", default=None, help="the gateway (default: the file's)")
    parser.add_argument(
        "--credentials",
        type=Path,
        default=default_credentials_path(),
        help="demo credentials (default: $UCAP_RUN_DIR/demo-credentials.json)",
    )
    parser.add_argument("--seed", type=int, default=None, help="repeatable choices")
    args = parser.parse_args()
    # A process started in the background inherits SIGINT ignored: Ctrl-C must still stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return run(args)
    except FeedError as error:
        print(f"demo-feed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
