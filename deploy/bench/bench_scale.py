"""Benchmark progress updates as the pilots event store grows, and the rebuilds after.

    python deploy/bench/bench_scale.py [--json] [--small 1000] [--large 100000] [--seconds 20]

It starts a whole system of its own (the four services and the gateway as processes
on free ports, its own topic namespace, databases, consumer groups and token key)
against the running Kafka (``KAFKA_BOOTSTRAP_SERVERS``) and MongoDB-protocol server
(``MONGODB_URI``), and through the gateway creates a lead city, ``--partners``
partner cities, a U-CAP, and at each store size a fresh pilot per partner city.
Each partner city posts with its own publisher key; the gateway's per-key rate
limit is lifted, so it measures the system, not that policy.

At two store sizes, about ``--small`` and about ``--large`` events in the pilots
service's event store, it measures:

- progress updates through the gateway one at a time (p50, p99), next to raw
  ``insert_one`` of a commit-shaped document on the same server (p50);
- updates/s at 8 and at 32 in flight for ``--seconds`` each (``wrk`` with a Lua
  script when installed, else a Python closed loop), next to raw ``insert_one``
  at the same concurrency, while sampling every second the reporting service's
  ``/ops/freshness`` (its consumer lag on the pilots topic, and how old the newest
  event it applied is) and the pilots relay's backlog (events not yet in Kafka),
  then until the views have applied everything;
- on the local server (``make infra-up``), what each update costs it: PostgreSQL
  transactions per update and per raw insert in the same run, and so the updates/s
  the server alone would allow (``server_work``; ``--no-server-work`` leaves it out).

The history is written straight into the store as ``EventStore.append`` writes
commits, for filler pilots (``--filler-history`` events each: a proposal, then
progress), marked published so the relay does not send them: they are in the
pilots store only, not in Kafka, and have no view documents or snapshots until the
rebuild. The measured pilots are new at each size, so their own history is the same
at both sizes; only the store around them differs.

Then it stops the pilots and reporting services, times ``python -m ucap_<service>
rebuild`` of each, and bulk upserts of as many documents on the same server (batches
of 1000). It prints a table of each figure, its ceiling, the ratio and the issue's
targets (PASS/FAIL; it always exits 0), and cleans up: processes, databases, topics.
Progress goes to stderr; ``--json`` prints the figures as JSON on stdout.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from host_cpu import CpuTimes, share_text, steal_share
from pymongo import ASCENDING, AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from seeding import city_body, until_created
from server_work import ServerWork, Window

from ucap_gateway.keys import KeyStore
from ucap_pilots.domain import update_id_for
from ucap_pilots.events import PilotProposed, ProgressReported
from ucap_shared.auth import Principal, Role, issue_token
from ucap_shared.envelope import Envelope
from ucap_shared.eventstore import commit_id

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("cities", "mous", "pilots", "reporting")
IN_FLIGHT = (8, 32)
WARMUP = 10
BATCH = 1000
DRAIN_SECONDS = 60.0
BENCH = Principal(subject="ops:bench-scale", roles=frozenset({Role.ADMIN}))
REBUILT = re.compile(r"rebuilt in ([\d.]+)s: (\d+) events replayed, (\d+) applied, (\d+) skipped")

Document = dict[str, Any]
Mongo = AsyncMongoClient[Document]


def say(message: str) -> None:
    """Progress on stderr, so that ``--json`` leaves stdout to the figures."""
    print(message, file=sys.stderr, flush=True)


def percentile(samples: list[float], p: int) -> float:
    if not samples:
        return float("nan")
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


# --- processes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    name: str
    url: str
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None


async def start(name: str, env: dict[str, str], log_dir: Path) -> Service:
    port = free_port()
    prefix = f"UCAP_{name.upper()}_"
    service = Service(
        name,
        f"http://127.0.0.1:{port}",
        {**env, f"{prefix}PORT": str(port), f"{prefix}HOST": "127.0.0.1"},
        log_dir / f"{name}.log",
    )
    with service.log.open("ab") as output:
        service.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"ucap_{name}",
            env=service.env,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=output,
        )
    return service


async def wait_live(service: Service, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            assert service.process is not None
            if service.process.returncode is not None:
                raise RuntimeError(f"{service.name} exited early; see {service.log}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{service.url}/health/live")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{service.name} did not answer in {timeout:g}s; see {service.log}"
                )
            await asyncio.sleep(0.2)


async def stop(service: Service) -> None:
    process = service.process
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        process.kill()
        await process.wait()


# --- the system ------------------------------------------------------------------


@dataclass
class Stack:
    suffix: str
    env: dict[str, str]
    log_dir: Path
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.env["UCAP_TOPIC_NAMESPACE"]

    @property
    def token_key(self) -> str:
        return self.env["UCAP_TOKEN_KEY"]

    def database(self, service: str) -> str:
        return self.env[f"UCAP_{service.upper()}_DATABASE"]

    @property
    def scratch(self) -> str:
        return f"bench_scale_{self.suffix}_scratch"

    @property
    def databases(self) -> list[str]:
        return [*(self.database(name) for name in (*SERVICES, "gateway")), self.scratch]

    def token(self, audience: str) -> str:
        return issue_token(BENCH, audience=audience, key=self.token_key, ttl_seconds=300)


def stack_env(args: argparse.Namespace, suffix: str) -> dict[str, str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": args.kafka,
        "MONGODB_URI": args.mongodb,
        "UCAP_TOPIC_NAMESPACE": f"bench-scale-{suffix}",
        # A key of its own: it signs the service tokens it samples /ops/* with.
        "UCAP_TOKEN_KEY": secrets.token_urlsafe(32),
        # Each log line costs the services CPU the benchmark would measure.
        "UCAP_LOG_LEVEL": "WARNING",
        "UCAP_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
        "UCAP_GATEWAY_RATE_LIMIT_BURST": "1000000",
    }
    for name in (*SERVICES, "gateway"):
        env[f"UCAP_{name.upper()}_DATABASE"] = f"bench_scale_{suffix}_{name}"
        env[f"UCAP_{name.upper()}_CONSUMER_GROUP"] = f"bench-scale-{suffix}-{name}"
    return env


@dataclass
class City:
    city_id: str
    key: str


@dataclass
class Cities:
    lead: str
    admin_key: str
    partners: list[City]


async def create_keys(mongo: Mongo, stack: Stack, lead: str, partners: list[str]) -> Cities:
    """An admin key and a publisher key per partner city, in the gateway's own key store."""
    keys = KeyStore(mongo[stack.database("gateway")])
    await keys.create_indexes()
    admin = await keys.create("ops:bench-scale", [Role.ADMIN])
    cities = [City(c, (await keys.create(f"city:{c}", [Role.PUBLISHER])).secret) for c in partners]
    return Cities(lead, admin.secret, cities)


async def start_stack(stack: Stack, mongo: Mongo, partners: int) -> Cities:
    say(f"starting the services (namespace {stack.namespace}, logs in {stack.log_dir}) …")
    for name in SERVICES:
        stack.services[name] = await start(name, stack.env, stack.log_dir)
    for name in SERVICES:
        await wait_live(stack.services[name])
    lead = f"scale-{stack.suffix}-lead"
    cities = await create_keys(
        mongo, stack, lead, [f"scale-{stack.suffix}-p{n}" for n in range(partners)]
    )
    gateway_env = {
        **stack.env,
        **{f"UCAP_GATEWAY_{n.upper()}_URL": s.url for n, s in stack.services.items()},
    }
    stack.services["gateway"] = await start("gateway", gateway_env, stack.log_dir)
    await wait_live(stack.services["gateway"])
    return cities


def ucap_id(cities: Cities) -> str:
    return f"{cities.lead}-ucap"


async def seed(client: httpx.AsyncClient, cities: Cities) -> None:
    for city_id, country in [(cities.lead, "ES"), *((c.city_id, "CN") for c in cities.partners)]:
        await until_created(client, "/cities", city_body(city_id, country))
    await until_created(
        client,
        "/ucaps",
        {
            "id": ucap_id(cities),
            "title": "Scale benchmark U-CAP",
            "lead_city_id": cities.lead,
            "counterpart_city_ids": [c.city_id for c in cities.partners],
            "period": {"from": "2018-06", "until": "2020-11"},
            "themes": [{"title": "Smart City and Digital Transition", "key_focus": "Pilots"}],
            "sdgs": [9, 11],
            "urban_agenda_themes": ["Digital Transition"],
            "key_challenges": ["Scale"],
            "main_objectives": ["Measure"],
        },
    )


@dataclass
class Target:
    pilot_id: str
    city: City


async def create_pilots(client: httpx.AsyncClient, cities: Cities, stage: str) -> list[Target]:
    """One new pilot per partner city: the pilots measured at this store size."""
    targets = []
    for n, city in enumerate(cities.partners):
        pilot_id = f"{cities.lead}-{stage}-{n}"
        await until_created(
            client,
            "/pilots",
            {
                "id": pilot_id,
                "title": f"Scale pilot {stage} {n}",
                "lead_city_id": cities.lead,
                "partners": [{"city_id": city.city_id, "role": "partner"}],
                "cluster": "Smart City",
                "themes": ["Smart City and Digital Transition"],
                "sdg_goals": [11],
                "ucap_id": ucap_id(cities),
            },
        )
        targets.append(Target(pilot_id, city))
    return targets


def progress_body(city_id: str, summary: str) -> Document:
    return {"reported_on": "2020-07-15", "reporting_city_id": city_id, "summary": summary}


# --- event store history -----------------------------------------------------------


def now_in_milliseconds() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def commit(
    aggregate_id: str, sequence: int, event_type: str, data: Document, actor: str
) -> Document:
    """One commit of one event, as ``EventStore.append`` writes it (published already)."""
    envelope = Envelope(
        time=now_in_milliseconds(),
        source="ucap/pilots",
        type=event_type,
        subject=aggregate_id,
        sequence=sequence,
        data=data,
        actor=actor,
    )
    event = envelope.model_dump(mode="json")
    event["time"] = envelope.time
    return {
        "_id": commit_id(aggregate_id, sequence),
        "aggregate_id": aggregate_id,
        "sequence": sequence,
        "last_sequence": sequence,
        "published": True,
        "events": [event],
    }


def proposal(pilot_id: str, lead: str, partner: str) -> Document:
    return PilotProposed.model_validate(
        {
            "pilot_id": pilot_id,
            "title": f"Filler pilot {pilot_id}",
            "description": "History for the scale benchmark",
            "lead_city_id": lead,
            "partners": [
                {"city_id": lead, "role": "lead"},
                {"city_id": partner, "role": "partner"},
            ],
            "stakeholder_ids": [],
            "cluster": "Smart City",
            "themes": ["Smart City and Digital Transition"],
            "sdg_goals": [11],
            "sdg_targets": [],
            "urban_agenda_themes": [],
            "mou_ids": [],
            "ucap_id": None,
        }
    ).model_dump(mode="json")


def progress(pilot_id: str, partner: str, key: str) -> Document:
    return ProgressReported.model_validate(
        {
            "pilot_id": pilot_id,
            "update": {
                "update_id": update_id_for(key),
                "reported_on": "2020-07-15",
                "reporting_city_id": partner,
                "summary": f"Filler progress {key}: workshop held, indicators collected.",
                "indicator_values": [],
                "milestone_id": None,
                "attachments": [],
            },
        }
    ).model_dump(mode="json")


@dataclass
class Filler:
    """Pilots with a history of their own, numbered on from one size to the next."""

    cities: Cities
    history: int
    pilots: int = 0

    def commits(self, events: int) -> Iterator[Document]:
        lead = self.cities.lead
        while events > 0:
            pilot_id = f"{lead}-filler-{self.pilots}"
            partner = self.cities.partners[self.pilots % len(self.cities.partners)].city_id
            self.pilots += 1
            yield commit(
                pilot_id,
                1,
                PilotProposed.event_type,
                proposal(pilot_id, lead, partner),
                "ops:bench",
            )
            events -= 1
            for sequence in range(2, min(self.history, events + 1) + 1):
                data = progress(pilot_id, partner, f"{pilot_id}-{sequence}")
                yield commit(
                    pilot_id, sequence, ProgressReported.event_type, data, f"city:{partner}"
                )
                events -= 1


async def fill(events: AsyncCollection[Document], filler: Filler, target: int) -> int:
    """Insert filler commits until the store holds about ``target``; how many it holds."""
    present = await events.count_documents({})
    missing = target - present
    if missing <= 0:
        say(f"  the store holds {present} events already")
        return present
    say(f"  filling the pilots event store: {present} → {target} events")
    started, done, batch = time.perf_counter(), 0, []
    shown = started
    for document in filler.commits(missing):
        batch.append(document)
        if len(batch) == BATCH:
            await events.insert_many(batch, ordered=False)
            done, batch = done + len(batch), []
            if time.perf_counter() - shown > 2 or done == missing:
                shown = time.perf_counter()
                rate = done / (shown - started)
                say(f"    {done}/{missing} written ({rate:.0f}/s)")
    if batch:
        await events.insert_many(batch, ordered=False)
        done += len(batch)
    seconds = time.perf_counter() - started
    say(f"    {done} written in {seconds:.1f}s ({done / seconds:.0f}/s), {filler.pilots} pilots")
    return await events.count_documents({})


# --- measurements --------------------------------------------------------------------


@dataclass
class OneAtATime:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    first_error: str | None = None


async def one_at_a_time(
    client: httpx.AsyncClient, targets: list[Target], count: int, tag: str, budget: float
) -> OneAtATime:
    """``count`` updates, or fewer (but 20) when they take longer than ``budget`` seconds."""
    samples: list[float] = []
    errors, first_error = 0, None
    deadline = time.perf_counter() + budget
    for n in range(WARMUP + count):
        if len(samples) >= 20 and time.perf_counter() > deadline:
            say(f"    stopped after {len(samples)} updates: over the {budget:g}s budget")
            break
        target = targets[n % len(targets)]
        started = time.perf_counter()
        response = await client.post(
            f"/pilots/{target.pilot_id}/progress",
            json=progress_body(target.city.city_id, f"Sequential update {n}"),
            headers={
                "Authorization": f"Bearer {target.city.key}",
                "Idempotency-Key": f"{tag}-{n}",
            },
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            errors += 1
            first_error = first_error or f"{response.status_code} {response.text[:200]}"
        elif n >= WARMUP:
            samples.append(elapsed)
    return OneAtATime(
        len(samples),
        errors,
        ms(percentile(samples, 50)),
        ms(percentile(samples, 99)),
        first_error,
    )


async def scratch_events(mongo: Mongo, stack: Stack, name: str) -> AsyncCollection[Document]:
    """A scratch collection with the event store's indexes, so its inserts pay for them too."""
    collection = mongo[stack.scratch][name]
    await collection.create_index(
        [("aggregate_id", ASCENDING), ("sequence", ASCENDING)], unique=True
    )
    await collection.create_index([("published", ASCENDING)])
    return collection


def raw_commit(name: str, n: int) -> Document:
    pilot_id = f"raw-{name}-{n // 50}"
    return commit(
        pilot_id,
        n % 50 + 1,
        ProgressReported.event_type,
        progress(pilot_id, "raw-partner", f"{name}-{n}"),
        "city:raw-partner",
    )


async def raw_insert_p50(mongo: Mongo, stack: Stack, name: str, count: int) -> float:
    collection = await scratch_events(mongo, stack, name)
    documents = [raw_commit(name, n) for n in range(count)]
    samples = []
    for document in documents:
        started = time.perf_counter()
        await collection.insert_one(document)
        samples.append(time.perf_counter() - started)
    return ms(statistics.median(samples))


@dataclass(frozen=True)
class RawInserts:
    done: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.done / self.seconds


async def raw_inserts(
    mongo: Mongo, stack: Stack, name: str, in_flight: int, seconds: float
) -> RawInserts:
    """Raw ``insert_one`` with ``in_flight`` at once: the store's write path without HTTP."""
    collection = await scratch_events(mongo, stack, name)
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker() -> int:
        nonlocal counter
        done = 0
        while time.perf_counter() < deadline:
            counter += 1
            await collection.insert_one(raw_commit(name, counter))
            done += 1
        return done

    started = time.perf_counter()
    done = sum(await asyncio.gather(*(worker() for _ in range(in_flight))))
    return RawInserts(done, time.perf_counter() - started)


@dataclass
class LagSample:
    at: float
    """Seconds since the load started."""
    during: bool
    """Taken while the load ran (else while waiting for the views to catch up)."""
    records: int | None
    """The reporting consumer's lag on the pilots topic, in records."""
    relay_backlog: int
    """The pilots service's events not yet published to Kafka."""
    age_seconds: float | None
    """How old the newest pilots event the reporting views applied is (idle time too)."""

    @property
    def behind(self) -> int | None:
        """Events appended but not yet applied by the reporting views."""
        return None if self.records is None else self.records + self.relay_backlog


async def unpublished(store: AsyncCollection[Document]) -> int:
    return len(await store.find({"published": False}, {"_id": 1}).to_list())


async def lag_sample(
    client: httpx.AsyncClient,
    stack: Stack,
    store: AsyncCollection[Document],
    origin: float,
    during: bool,
) -> LagSample:
    topic = f"{stack.namespace}.pilots.events"
    freshness, backlog = await asyncio.gather(
        client.get(
            f"{stack.services['reporting'].url}/ops/freshness",
            headers={"Authorization": f"Bearer {stack.token('reporting')}"},
        ),
        # The consumer's lag counts only what reached Kafka; the relay's backlog is the rest.
        # Counted as GET /ops/relay counts it (a find on the indexed ``published``: an
        # aggregation's count would scan the whole store every second on FerretDB, a load
        # the measured system would carry), but not queued behind the pilots service's work.
        unpublished(store),
    )
    freshness.raise_for_status()
    entries: list[Document] = freshness.json()
    entry: Document = next((t for t in entries if t["topic"] == topic), {})
    last = entry.get("last_event_time")
    age = (datetime.now(UTC) - datetime.fromisoformat(last)).total_seconds() if last else None
    return LagSample(
        round(time.perf_counter() - origin, 2),
        during,
        entry.get("lag"),
        backlog,
        None if age is None else round(age, 2),
    )


async def sample_lag(
    stack: Stack,
    store: AsyncCollection[Document],
    origin: float,
    stopped: asyncio.Event,
    samples: list[LagSample],
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        while not stopped.is_set():
            try:
                samples.append(await lag_sample(client, stack, store, origin, during=True))
            except httpx.HTTPError as error:
                say(f"    lag sample failed: {error!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), 1.0)


async def drain(
    stack: Stack, store: AsyncCollection[Document], origin: float, samples: list[LagSample]
) -> float | None:
    """Seconds until the relay and the reporting consumer have caught up; None: not in time."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as client:
        while time.perf_counter() - started < DRAIN_SECONDS:
            with contextlib.suppress(httpx.HTTPError):
                sample = await lag_sample(client, stack, store, origin, during=False)
                samples.append(sample)
                if sample.behind == 0:
                    return round(time.perf_counter() - started, 2)
            await asyncio.sleep(1.0)
    return None


@dataclass
class Sustained:
    in_flight: int
    client: str
    seconds: float
    ok: int
    errors: int
    updates_per_second: float
    p50_ms: float
    p99_ms: float
    raw_inserts_per_second: float = 0.0
    server_per_update: float | None = None
    """PostgreSQL transactions the local server committed per update (``server_work``)."""
    server_per_raw_insert: float | None = None
    first_error: str | None = None
    lag: list[LagSample] = field(default_factory=list)
    drained_after_seconds: float | None = None
    host_steal: float | None = None
    """The share of the machine's CPU time its host took back during the load."""

    def during(self) -> list[LagSample]:
        return [s for s in self.lag if s.during and s.behind is not None]

    def lag_summary(self) -> str:
        samples = self.during()
        if not samples:
            return "lag: no samples"
        worst = max(samples, key=lambda sample: sample.behind or 0)
        drained = (
            f"all applied {self.drained_after_seconds}s after the load"
            if self.drained_after_seconds is not None
            else f"not all applied {DRAIN_SECONDS:g}s after the load"
        )
        return (
            f"behind by max {worst.behind} (t {worst.at}s), final {samples[-1].behind}; {drained}"
        )

    @property
    def server_allows(self) -> float | None:
        """Updates/s the server alone would allow: its raw insert rate, at what an update
        costs it against what an insert does."""
        if not self.server_per_update or not self.server_per_raw_insert:
            return None
        return self.raw_inserts_per_second * self.server_per_raw_insert / self.server_per_update

    @property
    def bounded(self) -> bool | None:
        """The views kept up: past the first two samples (the load ramping up), what they had
        not applied in the last third of the run is no more than in the first third, give or
        take two seconds of updates (or 10), and it was all applied within a minute after.

        A backlog growing all along fails this (its last third is well above its first);
        one that holds steady, however deep, passes. Fewer than 3 samples tell nothing (None).
        """
        behind = [s.behind for s in self.during()[2:] if s.behind is not None]
        if self.drained_after_seconds is None:
            return False
        if len(behind) < 3:
            return None
        third = len(behind) // 3
        slack = max(10.0, 2 * self.updates_per_second)
        return max(behind[-third:]) <= max(behind[:third]) + slack


LUA = """
pilots = {
%(pilots)s
}
counter = 0
bad = 0
last_bad = 0
threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
end

function request()
  counter = counter + 1
  local target = pilots[(counter %% #pilots) + 1]
  return wrk.format("POST", target.path, {
    ["Authorization"] = target.auth,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. "-" .. tid .. "-" .. counter,
  }, target.body)
end

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
    last_bad = status
  end
end

function done(summary, latency, requests)
  local bad_total, last = 0, 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    if thread:get("last_bad") ~= 0 then last = thread:get("last_bad") end
  end
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "bad": %%d, "last_bad_status": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, ' ..
    '"p50_us": %%.1f, "p99_us": %%.1f}\\n',
    summary.requests, summary.duration, bad_total, last,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_script(targets: list[Target], path: Path) -> Path:
    entries = []
    for target in targets:
        body = json.dumps(progress_body(target.city.city_id, "Sustained update"))
        entries.append(
            f'  {{path = "/pilots/{target.pilot_id}/progress", '
            f'auth = "Bearer {target.city.key}", body = [==[{body}]==]}},'
        )
    path.write_text(LUA % {"pilots": "\n".join(entries)})
    return path


async def with_wrk(
    gateway: str, script: Path, in_flight: int, seconds: float, tag: str
) -> Sustained:
    process = await asyncio.create_subprocess_exec(
        shutil.which("wrk") or "wrk",
        f"-t{min(2, in_flight)}",
        f"-c{in_flight}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        f"{gateway}/",
        "--",
        tag,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{out.decode()}\n{err.decode()}")
    result = json.loads(lines[-1])
    elapsed = result["duration_us"] / 1e6
    ok = result["requests"] - result["bad"]
    errors = result["bad"] + sum(result[k] for k in ("connect", "read", "write", "timeout"))
    return Sustained(
        in_flight,
        "wrk (C, closed loop, 2 threads)",
        round(elapsed, 2),
        ok,
        errors,
        round(ok / elapsed, 1),
        # Without a completed request wrk's percentiles read 0: none is known.
        round(result["p50_us"] / 1000, 3) if result["requests"] else float("nan"),
        round(result["p99_us"] / 1000, 3) if result["requests"] else float("nan"),
        first_error=f"HTTP {result['last_bad_status']}" if result["bad"] else None,
    )


async def with_python(
    gateway: str, targets: list[Target], in_flight: int, seconds: float, tag: str
) -> Sustained:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    samples: list[float] = []
    errors, first_error, counter = 0, None, 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=gateway, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal counter, errors, first_error
            while time.perf_counter() < deadline:
                counter += 1
                target = targets[counter % len(targets)]
                started = time.perf_counter()
                try:
                    response = await client.post(
                        f"/pilots/{target.pilot_id}/progress",
                        json=progress_body(target.city.city_id, "Sustained update"),
                        headers={
                            "Authorization": f"Bearer {target.city.key}",
                            "Idempotency-Key": f"{tag}-{counter}",
                        },
                    )
                except httpx.HTTPError as error:
                    errors += 1
                    first_error = first_error or repr(error)
                    continue
                if response.status_code == 201:
                    samples.append(time.perf_counter() - started)
                else:
                    errors += 1
                    first_error = first_error or f"{response.status_code} {response.text[:200]}"

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
    return Sustained(
        in_flight,
        "Python (httpx, closed loop; it may saturate a core before the server does)",
        round(elapsed, 2),
        len(samples),
        errors,
        round(len(samples) / elapsed, 1),
        ms(statistics.median(samples)) if samples else float("nan"),
        ms(percentile(samples, 99)),
        first_error=first_error,
    )


async def sustained(
    stack: Stack,
    store: AsyncCollection[Document],
    targets: list[Target],
    in_flight: int,
    seconds: float,
    tag: str,
    client: str,
) -> Sustained:
    gateway = stack.services["gateway"].url
    samples: list[LagSample] = []
    stopped = asyncio.Event()
    origin = time.perf_counter()
    sampler = asyncio.create_task(sample_lag(stack, store, origin, stopped, samples))
    before = CpuTimes.now()
    try:
        if client == "wrk":
            script = wrk_script(targets, stack.log_dir / f"{tag}.lua")
            run = await with_wrk(gateway, script, in_flight, seconds, tag)
        else:
            run = await with_python(gateway, targets, in_flight, seconds, tag)
        run.host_steal = steal_share(before, CpuTimes.now())
    finally:
        stopped.set()
        await sampler
    run.drained_after_seconds = await drain(stack, store, origin, samples)
    run.lag = samples
    await settle(store)
    return run


async def settle(store: AsyncCollection[Document], most: float = 30.0) -> None:
    """Until the store stops growing: requests the client gave up on are still being served,
    and would otherwise be measured with the next run."""
    deadline = time.monotonic() + most
    count = await store.count_documents({})
    while time.monotonic() < deadline:
        await asyncio.sleep(2)
        now = await store.count_documents({})
        if now == count:
            return
        count = now


@dataclass
class Size:
    label: str
    events: int
    one_at_a_time: OneAtATime
    raw_insert_p50_ms: float
    runs: list[Sustained]

    @property
    def ratio_to_raw(self) -> float:
        return self.one_at_a_time.p50_ms / self.raw_insert_p50_ms


async def measure_size(
    label: str,
    target_events: int,
    args: argparse.Namespace,
    stack: Stack,
    mongo: Mongo,
    client: httpx.AsyncClient,
    cities: Cities,
    filler: Filler,
) -> Size:
    say(f"\n[{label}] about {target_events} events in the pilots event store")
    store = mongo[stack.database("pilots")]["events"]
    await fill(store, filler, target_events)
    targets = await create_pilots(client, cities, label)
    events = await store.count_documents({})
    say(f"  {events} events in the store; {len(targets)} new pilots to measure on")
    say(f"  {args.sequential} progress updates one at a time (after {WARMUP} to warm up) …")
    tag = f"{stack.suffix}-{label}"
    single = await one_at_a_time(client, targets, args.sequential, f"{tag}-seq", args.budget)
    say(f"    p50 {single.p50_ms:.2f} ms, p99 {single.p99_ms:.2f} ms, {single.errors} errors")
    raw_p50 = await raw_insert_p50(mongo, stack, f"{label}_p50", args.raw_inserts)
    say(f"  raw insert_one, one at a time ({args.raw_inserts}): p50 {raw_p50:.2f} ms")
    runs = []
    work = await ServerWork.local() if args.server_work else None
    quiet = None
    for in_flight in IN_FLIGHT:
        idle, start = await work.idle_rate(quiet) if work else (0.0, None)
        say(f"  {in_flight} in flight for {args.seconds:g}s …")
        run = await sustained(
            stack, store, targets, in_flight, args.seconds, f"{tag}-c{in_flight}", args.client
        )
        loaded = await work.after_quiet() if work else None
        ceiling_seconds = min(5.0, max(2.0, args.seconds / 2))
        raw = await raw_inserts(mongo, stack, f"{label}_c{in_flight}", in_flight, ceiling_seconds)
        run.raw_inserts_per_second = round(raw.per_second, 1)
        if work and start and loaded:
            run.server_per_update = Window(start, loaded, idle).per_write(run.ok)
            quiet = await work.after_quiet()
            run.server_per_raw_insert = Window(loaded, quiet, idle).per_write(raw.done)
        say(
            f"    {run.updates_per_second:.1f} updates/s (p50 {run.p50_ms:.1f} ms, "
            f"{run.errors} errors); raw insert_one {run.raw_inserts_per_second:.0f}/s; "
            f"reporting {run.lag_summary()}"
        )
        if run.server_allows is not None:
            say(
                f"    server: {run.server_per_update:.1f} PostgreSQL transactions per update, "
                f"{run.server_per_raw_insert:.2f} per raw insert (idle stack {idle:.1f}/s): "
                f"it alone would allow {run.server_allows:.0f} updates/s"
            )
        runs.append(run)
    return Size(label, events, single, raw_p50, runs)


@dataclass
class Rebuild:
    service: str
    events: int
    applied: int
    skipped: int
    seconds: float
    wall_seconds: float
    raw_upserts_per_second: float = 0.0
    raw_upserts: int = 0
    """How many of the ``events`` upserts the ceiling did within its budget."""

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


async def rebuild(stack: Stack, service: str) -> Rebuild:
    env = stack.services[service].env
    deadline = time.monotonic() + 90
    while True:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"ucap_{service}",
            "rebuild",
            env=env,
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        lines = []
        shown = time.monotonic()
        async for raw in process.stdout:
            line = raw.decode().rstrip()
            lines.append(line)
            # A rebuild of a large store takes minutes: show it is getting on.
            if "events replayed" in line and time.monotonic() - shown > 5:
                shown = time.monotonic()
                say(f"    {service}: {line.strip()} ({shown - started:.0f}s)")
            elif line.startswith("replaying"):
                say(f"    {service}: {line}")
        await process.wait()
        wall = time.perf_counter() - started
        text = "\n".join(lines)
        found = REBUILT.search(text)
        if found is not None:
            break
        # The stopped service's consumer may still count as a member for a moment.
        if "active member" not in text or time.monotonic() > deadline:
            raise RuntimeError(f"{service} rebuild failed ({process.returncode}):\n{text[-3000:]}")
        await asyncio.sleep(3)
    seconds, replayed, applied, skipped = found.groups()
    return Rebuild(service, int(replayed), int(applied), int(skipped), float(seconds), wall)


async def raw_upsert_rate(
    mongo: Mongo, stack: Stack, name: str, count: int, budget: float
) -> tuple[float, int]:
    """Bulk ``ReplaceOne(upsert=True)`` by ``_id``, 1000 a batch: view writes without their
    logic. Upserts/s and how many were done: it stops after the batch that ends ``budget``
    seconds, since on some servers each upsert costs more as the collection grows."""
    collection = mongo[stack.scratch][name]
    documents = [raw_commit(name, n) for n in range(max(count, 1))]
    started = time.perf_counter()
    done = 0
    for first in range(0, len(documents), BATCH):
        batch = documents[first : first + BATCH]
        await collection.bulk_write(
            [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in batch], ordered=False
        )
        done += len(batch)
        elapsed = time.perf_counter() - started
        say(f"    raw bulk upserts: {done}/{len(documents)} ({done / elapsed:.0f}/s)")
        if elapsed > budget and done < len(documents):
            say(f"    stopped there: over the {budget:g}s budget")
            break
    return done / (time.perf_counter() - started), done


async def rebuilds(stack: Stack, mongo: Mongo, budget: float) -> list[Rebuild]:
    say("\nrebuilding the pilots and reporting views (services stopped) …")
    for service in ("pilots", "reporting"):
        await stop(stack.services[service])
    results = []
    for service in ("pilots", "reporting"):
        result = await rebuild(stack, service)
        rate, result.raw_upserts = await raw_upsert_rate(
            mongo, stack, f"upserts_{service}", result.events, budget
        )
        result.raw_upserts_per_second = round(rate, 1)
        say(
            f"  {service}: {result.events} events in {result.seconds:.1f}s "
            f"({result.events_per_second:.0f}/s; {result.wall_seconds:.1f}s with start-up), "
            f"{result.skipped} skipped; raw bulk upserts {result.raw_upserts_per_second:.0f}/s"
        )
        results.append(result)
    return results


# --- clean-up ------------------------------------------------------------------------


async def delete_topics(kafka: str, namespace: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"{namespace}.")]
        if topics:
            await admin.delete_topics(topics)
        return len(topics)
    finally:
        await admin.close()


async def clean_up(stack: Stack, mongo: Mongo, kafka: str) -> None:
    say("\ncleaning up …")
    for service in reversed(list(stack.services.values())):
        await stop(service)
    for database in stack.databases:
        with contextlib.suppress(Exception):
            await mongo.drop_database(database)
    try:
        deleted = await delete_topics(kafka, stack.namespace)
        say(
            f"  stopped {len(stack.services)} processes, dropped {len(stack.databases)} "
            f"databases, deleted {deleted} topics"
        )
    except Exception as error:  # noqa: BLE001 - a leftover topic is no reason to fail the run
        say(f"  topics of {stack.namespace} not deleted: {error!r}")


# --- report --------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    ceiling: str
    ratio: str
    target: str
    result: str


def verdict(ok: bool | None) -> str:
    return "n/a (too few lag samples)" if ok is None else "PASS" if ok else "FAIL"


def rows(small: Size, large: Size, rebuilt: list[Rebuild]) -> list[Row]:
    table = []
    for size in (small, large):
        single = size.one_at_a_time
        table.append(
            Row(
                f"p50 one at a time, {size.label} ({size.events} events)",
                f"{single.p50_ms:.2f} ms",
                f"raw insert p50 {size.raw_insert_p50_ms:.2f} ms",
                f"{size.ratio_to_raw:.1f}×",
                "≤ 25×",
                verdict(size.ratio_to_raw <= 25),
            )
        )
        table.append(
            Row(f"p99 one at a time, {size.label}", f"{single.p99_ms:.2f} ms", "", "", "", "")
        )
    growth = large.one_at_a_time.p50_ms / small.one_at_a_time.p50_ms
    table.append(
        Row(
            "p50 large / p50 small",
            f"{large.one_at_a_time.p50_ms:.2f} / {small.one_at_a_time.p50_ms:.2f} ms",
            "",
            f"{growth:.2f}×",
            "≤ 1.3×",
            verdict(growth <= 1.3),
        )
    )
    for size in (small, large):
        for run in size.runs:
            target = run.in_flight == 8
            ok = run.bounded if run.updates_per_second >= 100 else False
            table.append(
                Row(
                    f"updates/s, {run.in_flight} in flight, {size.label}",
                    f"{run.updates_per_second:.1f}/s (p50 {run.p50_ms:.1f} ms, {run.errors} err)",
                    f"raw insert {run.raw_inserts_per_second:.0f}/s",
                    f"{run.updates_per_second / run.raw_inserts_per_second:.1%}"
                    if run.raw_inserts_per_second
                    else "",
                    "≥ 100/s, lag bounded" if target else "",
                    verdict(ok) if target else "",
                )
            )
            if (allowed := run.server_allows) is not None:
                table.append(
                    Row(
                        f"  server work, {run.in_flight} in flight, {size.label}",
                        f"{run.server_per_update:.1f} PostgreSQL transactions per update",
                        f"{run.server_per_raw_insert:.2f} per raw insert: "
                        f"it alone allows {allowed:.0f}/s",
                        f"{run.updates_per_second / allowed:.1%}",
                        "",
                        "",
                    )
                )
            samples = run.during()
            behind = [sample.behind or 0 for sample in samples]
            table.append(
                Row(
                    f"  reporting lag, {run.in_flight} in flight, {size.label}",
                    f"max {max(behind, default=0)}, final {behind[-1] if behind else '?'} events "
                    f"not applied ({len(samples)} samples)",
                    f"applied all {run.drained_after_seconds}s after"
                    if run.drained_after_seconds is not None
                    else f"not all applied {DRAIN_SECONDS:g}s after",
                    "",
                    "bounded" if target else "",
                    verdict(run.bounded) if target else "",
                )
            )
    for result in rebuilt:
        ratio = result.events_per_second / result.raw_upserts_per_second
        table.append(
            Row(
                f"rebuild {result.service} ({result.events} events)",
                f"{result.events_per_second:.0f} events/s",
                f"raw bulk upserts {result.raw_upserts_per_second:.0f}/s"
                + ("" if result.raw_upserts >= result.events else f" (first {result.raw_upserts})"),
                f"{ratio:.2f}×",
                "≥ 0.5×",
                verdict(ratio >= 0.5),
            )
        )
    return table


def print_text(report: Document, table: list[Row]) -> None:
    print(f"\nucap scale benchmark: {report['setup']}")
    for size in report["sizes"]:
        print(f"\n[{size['label']}] {size['events']} events in the pilots store")
        for run in size["runs"]:
            samples = [sample for sample in run["lag"] if sample["during"]]
            first, last = (samples[0], samples[-1]) if samples else ({}, {})
            error = f" ({run['first_error']})" if run["first_error"] else ""
            series = ", ".join(
                str(s["records"] + s["relay_backlog"]) for s in samples if s["records"] is not None
            )
            print(
                f"  {run['in_flight']:>2} in flight: {run['ok']} updates in {run['seconds']}s, "
                f"{run['errors']} errors{error}; "
                f"client {run['client']}; host steal {share_text(run.get('host_steal'))}\n"
                f"     reporting lag samples (t s, consumer lag records + relay backlog, "
                f"newest applied event age s): first {_sample(first)}, last {_sample(last)}, "
                f"{len(samples)} samples; all applied "
                f"{run['drained_after_seconds']}s after the load\n"
                f"     events not applied, sample by sample: {series}"
            )
    header = Row("figure", "value", "ceiling (same run)", "ratio", "target", "result")
    lines = [list(asdict(row).values()) for row in [header, *table]]
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    print()
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def without_nan(value: Any) -> Any:  # noqa: ANN401 - any JSON value
    """JSON has no NaN: a figure not measured (no request completed) is null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nan(item) for item in value]
    return value


def _sample(sample: Document) -> str:
    if not sample:
        return "none"
    age = sample["age_seconds"]
    return (
        f"({sample['at']}, {sample['records']} + {sample['relay_backlog']}, "
        f"{'?' if age is None else f'{age:.1f}'})"
    )


# --- main ----------------------------------------------------------------------------


async def cancel_on_sigterm(work: Coroutine[Any, Any, Document]) -> Document:
    """SIGTERM (a ``timeout``, a CI job stopped) cancels the run like Ctrl-C, so that its
    clean-up still stops the services and drops the databases."""
    task = asyncio.ensure_future(work)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await task


async def bench(args: argparse.Namespace) -> Document:
    suffix = uuid.uuid4().hex[:8]
    log_dir = Path(tempfile.mkdtemp(prefix=f"ucap-bench-scale-{suffix}-"))
    stack = Stack(suffix, stack_env(args, suffix), log_dir)
    mongo: Mongo = AsyncMongoClient(args.mongodb)
    failed = True
    try:
        cities = await start_stack(stack, mongo, args.partners)
        gateway = stack.services["gateway"].url
        admin = {"Authorization": f"Bearer {cities.admin_key}"}
        async with httpx.AsyncClient(base_url=gateway, headers=admin, timeout=60) as client:
            say("creating the cities and the U-CAP through the gateway …")
            await seed(client, cities)
            filler = Filler(cities, args.filler_history)
            small = await measure_size(
                "small", args.small, args, stack, mongo, client, cities, filler
            )
            large = await measure_size(
                "large", args.large, args, stack, mongo, client, cities, filler
            )
        rebuilt = await rebuilds(stack, mongo, args.budget)
        failed = False
    finally:
        await clean_up(stack, mongo, args.kafka)
        await mongo.close()
        if failed:
            say(f"the services' logs are kept in {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
    client_kind = large.runs[0].client
    table = rows(small, large, rebuilt)
    return {
        "setup": (
            f"{len(cities.partners)} partner cities, each posting with its own key; "
            f"filler pilots of {args.filler_history} events each in the pilots store only "
            f"(published, not in Kafka); measured pilots new at each size; load client: "
            f"{client_kind}; server {args.mongodb}"
        ),
        "sizes": [asdict(small), asdict(large)],
        "rebuilds": [
            {**asdict(r), "events_per_second": round(r.events_per_second, 1)} for r in rebuilt
        ],
        "table": [asdict(row) for row in table],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--small", type=int, default=1000, help="events in the store, first")
    parser.add_argument("--large", type=int, default=100_000, help="events in the store, then")
    parser.add_argument("--seconds", type=float, default=20.0, help="each sustained run")
    parser.add_argument("--sequential", type=int, default=200, help="updates one at a time")
    parser.add_argument("--raw-inserts", type=int, default=500, help="raw inserts one at a time")
    parser.add_argument("--partners", type=int, default=8, help="partner cities, one pilot each")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="the sustained runs' load: wrk with a Lua script, or a Python closed loop "
        "(auto: wrk where installed)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=300.0,
        help="seconds the one-at-a-time run and the raw upsert ceiling may take; past it they "
        "stop with what they have (at least 20 updates, whole batches)",
    )
    parser.add_argument(
        "--filler-history", type=int, default=50, help="events per filler pilot (>= 1)"
    )
    parser.add_argument(
        "--no-server-work",
        dest="server_work",
        action="store_false",
        help="leave out the local server's transactions per update (30–45 s per run)",
    )
    parser.add_argument(
        "--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--mongodb", default=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
    )
    args = parser.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    elif args.client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk, or `make tools`)")
    if args.large < args.small or args.filler_history < 1 or args.partners < 1:
        parser.error("--large must be at least --small; --filler-history and --partners >= 1")
    report = asyncio.run(cancel_on_sigterm(bench(args)))
    if args.json:
        print(json.dumps(without_nan(report), indent=2, default=str))
    else:
        print_text(report, [Row(**row) for row in report["table"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
