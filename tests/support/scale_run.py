"""A scale run's own world: ``ucap_scale.py`` on ports and in a run folder of its own,
and what only more than one of everything lets a test check.

- ``ScaleWorld``: three Kafka brokers, two replicas of every service behind HAProxy and
  the data set, as ``make scale-up`` starts them; any process killed by name and the
  whole started again with ``up`` (which starts only what is missing).
- ``fencing``: in a partition, a record published under an older relay lease epoch
  after a newer one (two relays at once); events published again by a later holder.
- ``order_problems``: a view listing a writer's acknowledged updates out of order.
- ``relay_term``, ``group_members``: who holds a relay lease, who is in a consumer group.
- ``FeedWatcher``: a live feed kept open through the load balancer, reopened when cut.
- ``FaultFigures``: per fault, its time to converge, the writes acknowledged during it
  and their p99 latency.
"""

import asyncio
import json
import random
import socket
import statistics
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.fault_run import (
    Acknowledged,
    OwnInfra,
    PilotViews,
    Writer,
    alive,
    kill_tree,
    own_run_dir,
)
from tests.support.kafka_reading import read_topic
from tests.support.processes import REPO_ROOT
from ucap_shared.envelope import Envelope
from ucap_shared.lease import Lease, Term
from ucap_shared.mongo import connect_mongo
from ucap_shared.relay import LEASE_EPOCH_HEADER

SCALE_SCRIPT = REPO_ROOT / "deploy" / "local" / "ucap_scale.py"
SERVICES = ("cities", "mous", "pilots", "reporting")
"""The services with a relay and a consumer group (the gateway has neither)."""


EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_BLOCK_PORT = 10_000


def below_ephemeral_ports() -> int:
    """The first port the kernel may give an outgoing connection (32768 if unknown)."""
    try:
        return int(EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_block(size: int) -> int:
    """The first of ``size`` consecutive ports nobody listens on, below the ephemeral range:
    the replicas bind them seconds later, and a port in that range may meanwhile become the
    local end of some process's outgoing connection (it did: "address already in use")."""
    top = below_ephemeral_ports() - size
    for _ in range(200):
        first = random.randrange(LOWEST_BLOCK_PORT, top)
        sockets = []
        try:
            for port in range(first, first + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return first
    raise RuntimeError(f"no {size} consecutive free ports")


@dataclass
class ScaleWorld(OwnInfra):
    """``ucap_scale.py`` in a run folder and on ports of its own."""

    scale_port: int = field(default_factory=lambda: free_port_block(25))
    brokers_port: int = field(default_factory=lambda: free_port_block(6))
    relay_lease_seconds: float = 10.0

    @classmethod
    def create(cls, base_env: Mapping[str, str]) -> "ScaleWorld":
        return cls(own_run_dir(), base_env, script=SCALE_SCRIPT)

    @property
    def env(self) -> dict[str, str]:
        return super().env | {
            "UCAP_SCALE_PORT": str(self.scale_port),
            "UCAP_SCALE_KAFKA_PORT": str(self.brokers_port),
            "UCAP_SCALE_KAFKA_CONTROLLER_PORT": str(self.brokers_port + 3),
            "UCAP_SCALE_KAFKA_HEAP": "320m",
            "UCAP_RELAY_LEASE_SECONDS": str(self.relay_lease_seconds),
        }

    @property
    def url(self) -> str:
        """The load balancer in front of the two gateways."""
        return f"http://127.0.0.1:{self.scale_port}"

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.brokers_port + n}" for n in range(3))

    @property
    def mongodb_uri(self) -> str:
        return self.endpoints["MONGODB_URI"]

    def pid(self, component: str) -> int | None:
        """``kafka-<n>``, ``<service>-<n>``, ``haproxy``; else the data set's servers."""
        path = self.run_dir / "scale" / "pids" / f"{component}.pid"
        with suppress(FileNotFoundError, ValueError):
            pid = int(path.read_text().strip())
            if alive(pid):
                return pid
        return super().pid(component)

    def kill_all(self, components: list[str]) -> None:
        """SIGKILL each, at once."""
        pids = []
        for component in components:
            pid = self.pid(component)
            if pid is None:
                raise RuntimeError(f"no running {component} under {self.run_dir}")
            pids.append(pid)
        for pid in pids:
            kill_tree(pid)

    def logs(self) -> list[Path]:
        return [*super().logs(), *sorted((self.run_dir / "scale" / "logs").glob("*.log"))]


@contextmanager
def scale_world(base_env: Mapping[str, str]) -> Iterator[ScaleWorld]:
    """Up for the body; down afterwards, its folder removed unless the body raised."""
    world = ScaleWorld.create(base_env)
    try:
        try:
            world.up(timeout=400.0)
        except BaseException:
            world.down()
            raise
        yield world
    except BaseException:
        world.down()
        print(f"the scale run's logs are kept in {world.run_dir}")
        raise
    world.down()
    world.remove()


# --- what a scaled-out system must hold ----------------------------------------------


@dataclass
class Fencing:
    """What the relays' lease epochs (the ``ucap-lease-epoch`` header) say of a topic's log."""

    problems: list[str] = field(default_factory=list)
    """Two relays at once: in a partition, a record published under an older epoch after
    one published under a newer epoch (or a record with no epoch)."""
    republished: list[str] = field(default_factory=list)
    """An (aggregate, version) committed more than once with the epochs in order: a holder
    committed it, then was killed or lost its lease before marking it published, and its
    successor (or itself, after a failed batch) published it again (at least once)."""


async def fencing(bootstrap: str, topics: list[str]) -> Fencing:
    """Read each topic's committed records, partition by partition, in order."""
    found = Fencing()
    for topic in topics:
        records = sorted(await read_topic(bootstrap, topic), key=lambda r: (r.partition, r.offset))
        newest: dict[int, int] = {}
        epochs: dict[tuple[str, int], list[int]] = {}
        for record in records:
            event = Envelope.from_json(record.value)
            stamped = dict(record.headers).get(LEASE_EPOCH_HEADER)
            where = f"{topic}[{record.partition}]@{record.offset} {event.subject} v{event.sequence}"
            if stamped is None:
                found.problems.append(f"{where}: no lease epoch")
                continue
            epoch = int(stamped)
            if epoch < newest.get(record.partition, 0):
                found.problems.append(
                    f"{where}: published under epoch {epoch} after epoch "
                    f"{newest[record.partition]} (two relays at once)"
                )
            newest[record.partition] = max(epoch, newest.get(record.partition, 0))
            epochs.setdefault((str(event.subject), event.sequence), []).append(epoch)
        found.republished += [
            f"{topic}: {subject} v{version} under epochs {', '.join(map(str, seen))}"
            for (subject, version), seen in sorted(epochs.items())
            if len(seen) > 1
        ]
    return found


def order_problems(views: dict[str, PilotViews], writers: list[Writer]) -> list[str]:
    """A view that lists a writer's acknowledged updates in another order than it wrote
    them (one at a time: each was acknowledged before the next was sent)."""
    problems = []
    for writer in writers:
        written = [a.update_id for a in writer.acknowledged]
        found = views[writer.pilot_id]
        for name, ids in (("the pilots view", found.own), ("the pilots list", found.listed)):
            listed = [i for i in ids or [] if i in set(written)]
            if listed != written:
                problems.append(f"{writer.pilot_id}: {name} has them in another order")
        last = (found.reporting_last or [None])[-1]
        if written and last != written[-1]:
            problems.append(f"{writer.pilot_id}: reporting's last update is {last}")
    return problems


async def relay_term(mongodb_uri: str, service: str) -> Term | None:
    """The newest term of ``service``'s relay lease (its database as ``ucap_scale.py`` names it)."""
    client = connect_mongo(mongodb_uri, timeout_ms=5000)
    try:
        lease = Lease(client[f"scale_{service}"]["leases"], "relay", ttl_seconds=1.0)
        return await lease.current()
    finally:
        await client.close()


async def group_members(bootstrap: str, group: str) -> int:
    """How many consumers a Stable consumer group has (0 while it rebalances)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
        _error, _group, state, _kind, _protocol, members, *_ = response.groups[0]
        return len(members) if state == "Stable" else 0
    finally:
        await admin.close()


@dataclass
class FeedWatcher:
    """``GET /ucaps/{id}/live`` through the load balancer: the status frames' ids and
    when they came; reopened when the replica serving it goes away."""

    url: str
    headers: dict[str, str]
    frames: list[tuple[float, str]] = field(default_factory=list)
    cuts: list[float] = field(default_factory=list)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=40.0)) as client:
            while True:
                try:
                    async with client.stream("GET", self.url, headers=self.headers) as feed:
                        async for line in feed.aiter_lines():
                            if line.startswith("id:"):
                                self.frames.append((time.monotonic(), line[3:].strip()))
                except httpx.HTTPError:
                    pass
                self.cuts.append(time.monotonic())
                await asyncio.sleep(0.2)

    def frames_since(self, moment: float) -> set[str]:
        return {frame for at, frame in self.frames if at > moment}

    def cut_since(self, moment: float) -> bool:
        return any(at > moment for at in self.cuts)


# --- figures ------------------------------------------------------------------------


@dataclass
class FaultFigure:
    target: str
    killed: list[str]
    down_seconds: float = 0.0
    """From the SIGKILL to everything started again answering."""
    converge_seconds: float | None = None
    """From the SIGKILL to every view holding every update acknowledged until the restart."""
    acknowledged: int = 0
    """Writes acknowledged from the SIGKILL until converged."""
    p99_ms: float = 0.0
    relay_resumed_seconds: dict[str, float] = field(default_factory=dict)
    """Per service killed: from the SIGKILL to its relay lease renewed or taken again."""
    relay_moved: list[str] = field(default_factory=list)
    """The services whose lease went to another holder meanwhile (the killed one held it)."""

    def measure(self, acks: list[Acknowledged], start: float, end: float) -> None:
        during = sorted(a.latency for a in acks if start <= a.at <= end)
        self.acknowledged = len(during)
        if len(during) >= 2:
            self.p99_ms = statistics.quantiles(during, n=100, method="inclusive")[98] * 1000
        elif during:
            self.p99_ms = during[0] * 1000

    def line(self) -> str:
        converge = f"{self.converge_seconds:.1f}s" if self.converge_seconds is not None else "never"
        relays = ", ".join(
            f"{s} {t:.1f}s{' (moved)' if s in self.relay_moved else ''}"
            for s, t in self.relay_resumed_seconds.items()
        )
        return (
            f"  kill -9 {self.target:<22} back {self.down_seconds:5.1f}s, converged {converge:>6}, "
            f"{self.acknowledged:4} writes acknowledged, p99 {self.p99_ms:6.0f} ms"
            + (f"; relay held again: {relays}" if relays else "")
        )


def write_figures(path: Path, figures: list[FaultFigure], summary: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"summary": summary, "faults": [asdict(figure) for figure in figures]}
    path.write_text(json.dumps(document, indent=2) + "\n")
