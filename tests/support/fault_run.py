"""A fault run's own world, and what it measures.

- ``OwnInfra``: Kafka and the MongoDB-protocol server (FerretDB, on PostgreSQL where
  ``deploy/local/ucap_infra.py`` starts one) as ``ucap_infra.py up`` starts them, in a
  run folder and on ports of its own, so killing them disturbs nothing else.
- ``RestartableService``: one service process that can be killed with SIGKILL and
  started again on the same port (``tests.support.processes.run_service`` picks a new
  port at every start).
- ``fault_stack``: every service and the gateway against that infrastructure.
- ``RetriedWrites``: writes one at a time, each under its own key, retried with that
  key until acknowledged; ``Writer``: a partner city's system posting progress updates
  through the gateway so.
- ``view_problems``: what the views disagree on with the acknowledged updates.
"""

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.keys import auth, create_key
from tests.support.processes import REPO_ROOT, free_port
from tests.support.stack import SERVICES, isolated_env

INFRA_SCRIPT = REPO_ROOT / "deploy" / "local" / "ucap_infra.py"
EXTERNAL_ENDPOINTS = ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")


# --- processes ----------------------------------------------------------------


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def reaped(pid: int) -> bool:
    """Whether ``pid`` is gone, zombie included: PostgreSQL, finding its old postmaster's
    pid in its lock file, refuses to start while even a zombie has that pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def wait_reaped(pid: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not reaped(pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} still there {timeout:g}s after SIGKILL")
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, and theirs."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            child = int(stat.parent.name)
            found += [child, *children(child)]
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``, its process group and every process under it, as a crash of the
    whole server would (PostgreSQL's backends each lead a session of their own)."""
    doomed = [pid, *children(pid)]
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for each in doomed:
        with suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)
    for each in doomed:
        wait_reaped(each)


# --- infrastructure -------------------------------------------------------------


def own_run_dir() -> Path:
    # Not pytest's tmp_path: as root, PostgreSQL runs as `postgres`, which must reach it.
    run_dir = Path(tempfile.mkdtemp(prefix="ucap-fault-run-"))
    run_dir.chmod(0o755)
    return run_dir


@dataclass
class OwnInfra:
    """Kafka and the MongoDB-protocol server of one run, managed by ``ucap_infra.py``."""

    run_dir: Path
    base_env: Mapping[str, str]
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    mongo_port: int = field(default_factory=free_port)
    postgres_port: int = field(default_factory=free_port)
    starts: list[float] = field(default_factory=list)
    """Seconds each ``up`` took."""
    script: Path = INFRA_SCRIPT
    """What ``up`` and ``down`` run: ``ucap_infra.py``, or ``ucap_scale.py`` (which brings up
    the same data set beside its own Kafka cluster and services)."""

    @classmethod
    def create(cls, base_env: Mapping[str, str]) -> "OwnInfra":
        return cls(own_run_dir(), base_env)

    @property
    def env(self) -> dict[str, str]:
        """What ``ucap_infra.py`` runs with: no external endpoints, so it starts its own."""
        env = {k: v for k, v in self.base_env.items() if k not in EXTERNAL_ENDPOINTS}
        return env | {
            "UCAP_RUN_DIR": str(self.run_dir),
            "UCAP_KAFKA_PORT": str(self.kafka_port),
            "UCAP_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "UCAP_MONGO_PORT": str(self.mongo_port),
            "UCAP_POSTGRES_PORT": str(self.postgres_port),
            "UCAP_KAFKA_HEAP": "384m",
        }

    @property
    def endpoints(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.kafka_port}",
            "MONGODB_URI": f"mongodb://127.0.0.1:{self.mongo_port}/",
        }

    def _script(self, command: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(self.script), command],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def up(self, *, timeout: float = 240.0) -> float:
        """``ucap_infra.py up``: starts what does not answer, waits until all do."""
        started = time.monotonic()
        result = self._script("up", timeout)
        if result.returncode != 0:
            raise RuntimeError(
                f"ucap_infra.py up failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        self.starts.append(time.monotonic() - started)
        return self.starts[-1]

    def down(self) -> str:
        result = self._script("down", 120.0)
        return result.stdout + result.stderr

    def pid(self, component: str) -> int | None:
        """The running pid of ``kafka``, ``ferretdb`` or ``postgres`` (its postmaster)."""
        candidates = [self.run_dir / "pids" / f"{component}.pid"]
        if component == "postgres":
            candidates.insert(0, self.run_dir / "postgres" / "data" / "postmaster.pid")
        for path in candidates:
            try:
                pid = int(path.read_text().splitlines()[0].strip())
            except (FileNotFoundError, IndexError, ValueError):
                continue
            if alive(pid):
                return pid
        return None

    def kill(self, component: str) -> int:
        pid = self.pid(component)
        if pid is None:
            raise RuntimeError(f"no running {component} under {self.run_dir}")
        kill_tree(pid)
        return pid

    def logs(self) -> list[Path]:
        return sorted((self.run_dir / "logs").glob("*.log"))

    def remove(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)


# --- services -----------------------------------------------------------------


@dataclass
class RestartableService:
    """``python -m ucap_<name>`` on a fixed port: killed with SIGKILL, started again there."""

    name: str
    env: Mapping[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.log_dir / f"{self.name}-{self.port}-{self.starts}.log"

    def spawn(self) -> None:
        self.starts += 1
        prefix = f"UCAP_{self.name.upper()}_"
        env = {**self.env, f"{prefix}PORT": str(self.port), f"{prefix}HOST": "127.0.0.1"}
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"ucap_{self.name}"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
            )

    def wait_live(self, *, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not live within {timeout:g}s: see {self.log}")
            time.sleep(0.1)

    def start(self, *, timeout: float = 60.0) -> None:
        self.spawn()
        self.wait_live(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class FaultStack:
    infra: OwnInfra
    services: dict[str, RestartableService]
    gateway: RestartableService
    env: dict[str, str]
    admin: dict[str, str]
    log_dir: Path

    @property
    def url(self) -> str:
        return self.gateway.url

    def log_files(self) -> list[Path]:
        return [*self.infra.logs(), *sorted(self.log_dir.glob("*.log"))]

    def readiness(self) -> str:
        """Each process's ``/health/ready`` (relay, consumer, database), one line each."""
        lines = []
        for service in [*self.services.values(), self.gateway]:
            try:
                answer = httpx.get(f"{service.url}/health/ready", timeout=5)
            except httpx.TransportError as error:
                lines.append(f"  {service.name}: {error!r}")
            else:
                lines.append(f"  {service.name}: {answer.status_code} {answer.text}")
        return "\n".join(lines)

    def diagnostics(self) -> str:
        logs = "\n".join(f"  {path}" for path in self.log_files())
        return f"readiness now:\n{self.readiness()}\nlogs:\n{logs}"


@contextmanager
def fault_stack(base_env: Mapping[str, str], log_dir: Path) -> Iterator[FaultStack]:
    """Own infrastructure, every service and the gateway; all stopped at the end, and
    the run folder removed unless the body raised (its logs are then worth reading)."""
    infra = OwnInfra.create(base_env)
    failed = True
    try:
        with ExitStack() as stack:
            stack.callback(infra.down)
            infra.up()
            env = isolated_env({**infra.env, **infra.endpoints}, uuid.uuid4().hex[:8])
            services = {name: RestartableService(name, env, log_dir) for name in SERVICES}
            gateway_env = {
                **env,
                **{f"UCAP_GATEWAY_{name.upper()}_URL": s.url for name, s in services.items()},
            }
            gateway = RestartableService("gateway", gateway_env, log_dir)
            # All at once (the gateway needs only the services' addresses), the key made
            # while they start: on a busy box each start takes seconds.
            for service in [*services.values(), gateway]:
                stack.callback(service.stop)
                service.spawn()
            admin = create_key(gateway_env, principal="ops:fault-run", roles=["admin"])["key"]
            for service in [*services.values(), gateway]:
                service.wait_live()
            yield FaultStack(infra, services, gateway, gateway_env, auth(admin), log_dir)
            failed = False
    finally:
        if not failed:
            infra.remove()


# --- the programme the writers write to ---------------------------------------------


async def created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], *, timeout: float = 60.0
) -> None:
    """POST until created; 409 (it exists: an earlier try went through) counts as created.
    422 (a city not yet known to the service: its views come through Kafka), 5xx and
    connection errors are retried until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = await client.post(path, json=body)
        except httpx.TransportError as error:
            last = repr(error)
        else:
            if answer.status_code in (200, 201, 409):
                return
            last = f"{answer.status_code} {answer.text}"
            if answer.status_code not in (422, 429) and answer.status_code < 500:
                raise AssertionError(f"POST {path} refused: {last}")
        if time.monotonic() > deadline:
            raise AssertionError(f"POST {path} not created within {timeout:g}s: {last}")
        await asyncio.sleep(0.25)


@dataclass(frozen=True)
class Programme:
    """A lead city's U-CAP with its partner cities, a pilot per partner on it, and each
    partner's publisher key."""

    run_id: str
    ucap_id: str
    pilots: dict[str, str]
    """Pilot id by partner city id."""
    publishers: dict[str, str]
    """API key by partner city id."""
    lead_city_id: str


async def set_up_programme(
    admin: httpx.AsyncClient, env: Mapping[str, str], partner_names: tuple[str, ...]
) -> Programme:
    """Through the gateway at ``admin``'s base URL, with an admin key; the partners' keys
    made with ``env`` (the gateway's) meanwhile."""
    run_id = uuid.uuid4().hex[:8]
    lead = f"granada-{run_id}"
    partners = [f"{city}-{run_id}" for city in partner_names]
    ucap_id = f"{lead}-ucap"
    pilots = {city: f"{lead}-fault-{city}" for city in partners}
    keys = asyncio.gather(
        *(
            asyncio.to_thread(create_key, env, principal=f"city:{city}", roles=["publisher"])
            for city in partners
        )
    )
    cities = [
        {
            "id": city,
            "name": city.title(),
            "country": "ES" if city == lead else "CN",
            "world_region": "Europe" if city == lead else "Asia",
            "population": {"known": False},
        }
        for city in [lead, *partners]
    ]
    ucap = {
        "id": ucap_id,
        "title": f"Fault run U-CAP {run_id}",
        "lead_city_id": lead,
        "counterpart_city_ids": partners,
    }
    await asyncio.gather(
        created(admin, "/ucaps", ucap), *(created(admin, "/cities", city) for city in cities)
    )
    # The pilots service hears of the cities through Kafka: 422 until it has.
    await asyncio.gather(
        *(
            created(
                admin,
                "/pilots",
                {
                    "id": pilot_id,
                    "title": f"Fault run pilot with {city}",
                    "lead_city_id": lead,
                    "partners": [{"city_id": city, "role": "partner"}],
                    "ucap_id": ucap_id,
                },
                timeout=90.0,
            )
            for city, pilot_id in pilots.items()
        )
    )
    made = await keys
    publishers = {city: key["key"] for city, key in zip(partners, made, strict=True)}
    return Programme(run_id, ucap_id, pilots, publishers, lead)


# --- writers ------------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledged:
    key: str
    update_id: str
    latency: float
    """From the first attempt to the acknowledgement, retries included."""
    attempts: int
    replayed: bool
    at: float = field(default_factory=time.monotonic)
    """When it was acknowledged (``time.monotonic()``)."""


@dataclass(frozen=True)
class Recorded:
    """A write the service says it holds: the id it holds it as, and whether the answer
    said an earlier try of it had gone through already."""

    id: str
    replayed: bool = False


@dataclass
class RetriedWrites:
    """Writes one at a time, each under a key of its own and tried again with that key
    (a transport error, a 5xx, a 409 from a concurrent change) until acknowledged or its
    deadline passes. Each kind of write says how it is sent (``attempt``)."""

    acknowledged: list[Acknowledged] = field(default_factory=list, kw_only=True)
    unresolved: list[str] = field(default_factory=list, kw_only=True)
    """Keys given up on at the write deadline: they may or may not have been recorded."""
    failures: Counter[str] = field(default_factory=Counter, kw_only=True)
    stop: asyncio.Event = field(default_factory=asyncio.Event, kw_only=True)

    @property
    def label(self) -> str:
        raise NotImplementedError

    def key(self, n: int) -> str:
        raise NotImplementedError

    def has(self, n: int) -> bool:
        """Whether there is an ``n``-th write (a writer with a set list ends with it)."""
        return True

    async def attempt(self, client: httpx.AsyncClient, n: int) -> Recorded | str:
        """One try of the ``n``-th write: what was recorded, or what went wrong."""
        raise NotImplementedError

    async def run(self, client: httpx.AsyncClient, *, pace: float, write_deadline: float) -> None:
        """Write until ``stop`` is set; the write under way is finished (acknowledged or
        given up at its deadline) before returning, so nothing is left in doubt."""
        n = 0
        while not self.stop.is_set() and self.has(n + 1):
            n += 1
            await self.write(client, n, write_deadline=write_deadline)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), pace)

    async def write(self, client: httpx.AsyncClient, n: int, *, write_deadline: float) -> None:
        key = self.key(n)
        started = time.monotonic()
        backoff = 0.05
        attempts = 0
        while True:
            attempts += 1
            try:
                outcome = await self.attempt(client, n)
            except httpx.TransportError as error:
                outcome = type(error).__name__
            if isinstance(outcome, Recorded):
                self.acknowledged.append(
                    Acknowledged(
                        key=key,
                        update_id=outcome.id,
                        latency=time.monotonic() - started,
                        attempts=attempts,
                        replayed=outcome.replayed,
                    )
                )
                return
            self.failures[outcome] += 1
            if time.monotonic() - started > write_deadline:
                self.unresolved.append(key)
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)


@dataclass
class Writer(RetriedWrites):
    """One partner city's system: progress updates on its pilot, one at a time."""

    city_id: str
    pilot_id: str
    headers: dict[str, str]
    run_id: str
    reported_on: str

    @property
    def label(self) -> str:
        return f"{self.city_id} updates"

    def key(self, n: int) -> str:
        return f"{self.run_id}-{self.city_id}-{n}"

    async def attempt(self, client: httpx.AsyncClient, n: int) -> Recorded | str:
        body = {
            "reported_on": self.reported_on,
            "reporting_city_id": self.city_id,
            "summary": f"Fault run update {n} from {self.city_id}",
        }
        headers = {**self.headers, "Idempotency-Key": self.key(n)}
        path = f"/pilots/{self.pilot_id}/progress"
        response = await client.post(path, json=body, headers=headers)
        if response.is_success:
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            return Recorded(response.json()["update"]["update_id"], replayed)
        return f"HTTP {response.status_code}"


def acknowledged_total(writers: Sequence[RetriedWrites]) -> int:
    return sum(len(w.acknowledged) for w in writers)


async def more_acknowledgements(
    writers: Sequence[RetriedWrites], count: int, *, timeout: float, tasks: list[asyncio.Task[None]]
) -> None:
    """Until the writers have ``count`` more acknowledgements than now."""
    target = acknowledged_total(writers) + count
    deadline = time.monotonic() + timeout
    while acknowledged_total(writers) < target:
        for task in tasks:
            if task.done():
                task.result()
                raise RuntimeError("a writer stopped before it was asked to")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{count} more acknowledgements not reached within {timeout:g}s "
                f"({acknowledged_total(writers)} of {target})"
            )
        await asyncio.sleep(0.1)


# --- figures ------------------------------------------------------------------


@dataclass
class Fault:
    target: str
    pid: int | None = None
    down_seconds: float | None = None
    """From the SIGKILL to the restarted process answering."""
    skipped: str | None = None


@dataclass
class Figures:
    writers: list[Writer]
    other_writers: list[RetriedWrites] = field(default_factory=list)
    """Writers of other kinds of writes than progress updates, counted in the figures."""
    faults: list[Fault] = field(default_factory=list)
    infra_start_seconds: float = 0.0
    setup_seconds: float = 0.0
    write_seconds: float = 0.0
    converge_seconds: float | None = None

    @property
    def all_writers(self) -> list[RetriedWrites]:
        return [*self.writers, *self.other_writers]

    @property
    def acknowledged(self) -> list[Acknowledged]:
        return [a for w in self.all_writers for a in w.acknowledged]

    def percentile(self, p: int) -> float:
        latencies = sorted(a.latency for a in self.acknowledged)
        if len(latencies) < 2:
            return latencies[0] if latencies else 0.0
        return statistics.quantiles(latencies, n=100, method="inclusive")[p - 1]

    def report(self) -> str:
        acks = self.acknowledged
        retried = [a for a in acks if a.attempts > 1]
        failures: Counter[str] = Counter()
        writers = self.all_writers
        for writer in writers:
            failures.update(writer.failures)
        converge = f"{self.converge_seconds:.1f}s" if self.converge_seconds is not None else "never"
        lines = [
            "fault run figures:",
            f"  acknowledged      {len(acks)} writes from {len(writers)} writers "
            f"({', '.join(f'{w.label}: {len(w.acknowledged)}' for w in writers)})",
            f"  retried           {len(retried)} writes, {sum(a.attempts - 1 for a in acks)} "
            f"retries; {sum(a.replayed for a in acks)} acknowledged as replays",
            f"  unresolved        {sum(len(w.unresolved) for w in writers)} writes given up",
            f"  failures seen     {dict(failures.most_common()) or 'none'}",
            f"  write latency     p50 {self.percentile(50) * 1000:.0f} ms, "
            f"p99 {self.percentile(99) * 1000:.0f} ms, "
            f"max {max((a.latency for a in acks), default=0.0) * 1000:.0f} ms",
            f"  time to converge  {converge}",
            f"  phases            infra up {self.infra_start_seconds:.1f}s, "
            f"setup {self.setup_seconds:.1f}s, writes under faults {self.write_seconds:.1f}s",
        ]
        for fault in self.faults:
            if fault.skipped:
                lines.append(f"  kill -9 {fault.target:<9} skipped: {fault.skipped}")
            else:
                down = f"{fault.down_seconds:.1f}s" if fault.down_seconds is not None else "?"
                lines.append(f"  kill -9 {fault.target:<9} pid {fault.pid}, back after {down}")
        return "\n".join(lines)


# --- the views ----------------------------------------------------------------


@dataclass
class PilotViews:
    """What each view says of one pilot's progress updates; None: that view did not answer."""

    pilot_id: str
    own: list[str] | None = None
    """Update ids in ``GET /pilots/{id}`` (the pilots service's own view)."""
    listed: list[str] | None = None
    """Update ids in the compiled status's details (``GET /pilots?ucap=``)."""
    reporting_counts: list[int] | None = None
    """``updates_count`` wherever the pilot stands in reporting's U-CAP status."""
    reporting_last: list[str | None] | None = None


async def read_views(
    client: httpx.AsyncClient, ucap_id: str, pilot_ids: list[str]
) -> dict[str, PilotViews]:
    views = {pilot_id: PilotViews(pilot_id) for pilot_id in pilot_ids}

    async def own(pilot_id: str) -> None:
        try:
            answer = await client.get(f"/pilots/{pilot_id}")
        except httpx.TransportError:
            return
        if answer.status_code == 200:
            views[pilot_id].own = [u["update_id"] for u in answer.json()["updates"]]

    async def status() -> None:
        try:
            answer = await client.get(f"/ucaps/{ucap_id}/status", params={"format": "json"})
        except httpx.TransportError:
            return
        if answer.status_code != 200:
            return
        compiled: dict[str, Any] = answer.json()
        if compiled["parts"].get("pilots", {}).get("available"):
            for pilot_id, pilot in compiled["details"]["pilots"].items():
                if pilot_id in views:
                    views[pilot_id].listed = [u["update_id"] for u in pilot["updates"]]
        report = compiled["status"]
        placed = [p for c in report["counterparts"] for p in c["pilots"]]
        for pilot in [*placed, *report["other_pilots"]]:
            if pilot["pilot_id"] in views:
                found = views[pilot["pilot_id"]]
                last = pilot["last_update"]["update_id"] if pilot["last_update"] else None
                found.reporting_counts = [*(found.reporting_counts or []), pilot["updates_count"]]
                found.reporting_last = [*(found.reporting_last or []), last]

    await asyncio.gather(status(), *(own(pilot_id) for pilot_id in pilot_ids))
    return views


def ids_problems(
    pilot_id: str, view: str, ids: list[str] | None, acked: set[str], maybe: set[str]
) -> list[str]:
    if ids is None:
        return [f"{pilot_id}: {view} did not answer"]
    problems = []
    twice = sorted(i for i, n in Counter(ids).items() if n > 1)
    missing = sorted(acked - set(ids))
    unknown = sorted(set(ids) - acked - maybe)
    if missing:
        problems.append(
            f"{pilot_id}: {view} lacks {len(missing)} acknowledged updates: {', '.join(missing)}"
        )
    if twice:
        problems.append(f"{pilot_id}: {view} holds more than once: {', '.join(twice)}")
    if unknown:
        problems.append(f"{pilot_id}: {view} holds updates nobody sent: {', '.join(unknown)}")
    return problems


def view_problems(
    views: dict[str, PilotViews], acked: dict[str, set[str]], maybe: dict[str, set[str]]
) -> list[str]:
    """Every disagreement between the views and the acknowledged updates (``acked``, by
    pilot); ``maybe`` are updates given up on, which a view may or may not hold."""
    problems: list[str] = []
    for pilot_id, found in views.items():
        expected, unsure = acked[pilot_id], maybe[pilot_id]
        own_view = "the pilots view (GET /pilots/{id})"
        problems += ids_problems(pilot_id, own_view, found.own, expected, unsure)
        listed_view = "the pilots list (GET /pilots?ucap=, in the status details)"
        problems += ids_problems(pilot_id, listed_view, found.listed, expected, unsure)
        recorded = expected | (set(found.own or ()) & unsure)
        if not found.reporting_counts:
            problems.append(f"{pilot_id}: not in the reporting view's U-CAP status")
            continue
        wrong = [n for n in found.reporting_counts if n != len(recorded)]
        if wrong:
            problems.append(
                f"{pilot_id}: the reporting view counts {found.reporting_counts} updates, "
                f"expected {len(recorded)}"
            )
        strange = [u for u in found.reporting_last or [] if u not in recorded]
        if strange:
            problems.append(f"{pilot_id}: the reporting view's last update is {strange}")
    return problems
