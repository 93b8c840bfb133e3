"""ucap scaled out on one machine: three Kafka brokers, two replicas of every service.

    python deploy/local/ucap_scale.py up|down|status

``up`` starts, where not running yet:

- a three-node KRaft Kafka cluster (each node broker and controller), from the broker
  ``ucap_infra.py`` resolves; Kafka's own topics at replication factor 3, and every topic
  without a ``min.insync.replicas`` of its own (all of ucap's) at 2;
- the data set as ``make infra-up`` runs it (FerretDB on PostgreSQL, or ``MONGODB_URI``),
  one for all replicas, in databases ``scale_<service>`` unless ``UCAP_<SERVICE>_DATABASE``
  says otherwise (the single-node stack's views follow another Kafka);
- HAProxy: the gateway's port in front of the two gateway replicas, and one port per
  service in front of its two replicas, which the gateways call;
- two replicas of cities, mous, pilots, reporting and the gateway, each on a port of its
  own; the services create their topics at replication factor 3.

Ports: ``UCAP_SCALE_PORT`` (8100) is the gateway's, ``+1`` … ``+4`` front cities, mous,
pilots and reporting, replica 1 of each listens at ``+10`` … ``+14`` and replica 2 at
``+20`` … ``+24``; the brokers at ``UCAP_SCALE_KAFKA_PORT`` (9192) ``+0`` … ``+2``, their
controllers at ``UCAP_SCALE_KAFKA_CONTROLLER_PORT`` (9292) ``+0`` … ``+2``. Everything
but the data set lives in ``<run dir>/scale``. Running ``up`` again starts only what is
not running (a process killed, say), and waits until everything answers.
"""

import argparse
import asyncio
import logging
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import ucap_infra
from ucap_procs import REPO_ROOT, RUN_DIR, ManagedProcess

SCALE_DIR = RUN_DIR / "scale"
HERE = Path(__file__).resolve().parent
REPLICAS = 2
BROKERS = 3
SERVICES = ("gateway", "cities", "mous", "pilots", "reporting")
"""In port order: the gateway's offset is 0, reporting's 4."""
DEFAULT_DEADLINE_SECONDS = 180.0
DATA_SET_STARTED = SCALE_DIR / "data-set-started"
"""The data set's servers this stack started (and ``down`` stops)."""


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# --- Kafka ---------------------------------------------------------------------


def kafka_nodes() -> list[ucap_infra.KafkaServer]:
    port = _env_int("UCAP_SCALE_KAFKA_PORT", 9192)
    controller = _env_int("UCAP_SCALE_KAFKA_CONTROLLER_PORT", 9292)
    voters = ",".join(f"{n + 1}@127.0.0.1:{controller + n}" for n in range(BROKERS))
    return [
        ucap_infra.KafkaServer(
            port=port + n,
            controller_port=controller + n,
            heap=os.environ.get("UCAP_SCALE_KAFKA_HEAP", "384m"),
            home=SCALE_DIR / f"kafka-{n + 1}",
            name=f"kafka-{n + 1}",
            node_id=n + 1,
            quorum_voters=voters,
            replication=BROKERS,
            min_insync=BROKERS - 1,
            cluster_id=_cluster_id(),
            run_dir=SCALE_DIR,
        )
        for n in range(BROKERS)
    ]


def _cluster_id() -> str:
    """One id for the three nodes' storage, kept beside them."""
    path = SCALE_DIR / "kafka-cluster-id"
    if not path.exists():
        SCALE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(ucap_infra.new_cluster_id())
    return path.read_text().strip()


def bootstrap() -> str:
    return ",".join(node.bootstrap for node in kafka_nodes())


async def _node_ready(node: ucap_infra.KafkaServer, deadline: float) -> None:
    while time.monotonic() < deadline:
        if node.process.pid() is None:
            raise ucap_infra.InfraError(
                f"{node.name} exited; see {node.process.log_file}\n{node.process.log_tail()}"
            )
        try:
            await asyncio.wait_for(node.ping(), 3.0)
        except Exception:  # noqa: BLE001 - any failure means it does not answer yet
            await asyncio.sleep(0.25)
        else:
            return
    raise ucap_infra.InfraError(f"{node.name} at {node.bootstrap} not ready in time")


async def kafka_up(deadline: float) -> None:
    nodes = kafka_nodes()
    await asyncio.to_thread(nodes[0].prepare)
    # All at once: no node answers before a majority of the controllers runs.
    for node in nodes:
        if node.process.pid() is None:
            print(f"{node.name}: starting at {node.bootstrap}", flush=True)
            await asyncio.to_thread(node.start)
    await asyncio.gather(*(_node_ready(node, deadline) for node in nodes))


# --- the data set ----------------------------------------------------------------


def data_set() -> list[ucap_infra.Component]:
    return [c for c in ucap_infra.components() if c.label != "kafka" and not c.external]


async def data_set_up(deadline: float) -> None:
    """``make infra-up``'s FerretDB and PostgreSQL, the cluster standing for its Kafka."""
    running = {c.label for c in data_set() if c.server.process.pid() is not None}
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap()
    await ucap_infra.up(max(deadline - time.monotonic(), 1.0))
    started = {c.label for c in data_set() if c.server.process.pid() is not None} - running
    if started:
        recorded = set(DATA_SET_STARTED.read_text().split()) if DATA_SET_STARTED.exists() else set()
        DATA_SET_STARTED.write_text("\n".join(sorted(recorded | started)))


def mongodb_uri() -> str:
    return os.environ.get("MONGODB_URI") or ucap_infra.FerretDBServer.from_env().uri


# --- the load balancer -------------------------------------------------------------


@dataclass(frozen=True)
class Replica:
    service: str
    number: int

    @property
    def port(self) -> int:
        return _env_int("UCAP_SCALE_PORT", 8100) + 10 * self.number + SERVICES.index(self.service)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(f"{self.service}-{self.number}", run_dir=SCALE_DIR)


def replicas() -> list[Replica]:
    return [Replica(s, n) for n in range(1, REPLICAS + 1) for s in SERVICES]


def front_port(service: str) -> int:
    """The load balancer's port for ``service``: the gateway's is the public one."""
    return _env_int("UCAP_SCALE_PORT", 8100) + SERVICES.index(service)


def haproxy_config() -> str:
    template = (HERE / "haproxy" / "haproxy.cfg.template").read_text()
    sections = []
    for service in SERVICES:
        servers = "\n".join(
            f"    server {r.service}-{r.number} 127.0.0.1:{r.port}"
            for r in replicas()
            if r.service == service
        )
        # The gateway's live feeds last: spread by open connections, not by requests.
        balance = "    balance leastconn\n" if service == "gateway" else ""
        sections.append(
            f"frontend {service}\n    bind 127.0.0.1:{front_port(service)}\n"
            f"    default_backend {service}\n\nbackend {service}\n{balance}{servers}\n"
        )
    return template.format(proxies="\n".join(sections))


HAPROXY = ManagedProcess("haproxy", run_dir=SCALE_DIR)


def haproxy_up() -> None:
    if HAPROXY.pid() is not None:
        return
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        raise ucap_infra.InfraError(
            "`haproxy` is not installed: install Debian's haproxy package (`make scale-up` "
            "does, as root)"
        )
    config = SCALE_DIR / "haproxy.cfg"
    config.write_text(haproxy_config())
    print(f"haproxy: starting at 127.0.0.1:{front_port('gateway')}", flush=True)
    HAPROXY.start([binary, "-db", "-f", str(config)])


# --- the services -----------------------------------------------------------------


def replica_env(replica: Replica) -> dict[str, str]:
    prefix = f"UCAP_{replica.service.upper()}_"
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap(),
        "MONGODB_URI": mongodb_uri(),
        "UCAP_KAFKA_REPLICATION_FACTOR": str(BROKERS),
        "UCAP_KAFKA_TOPIC_PARTITIONS": os.environ.get("UCAP_KAFKA_TOPIC_PARTITIONS", "6"),
        f"{prefix}PORT": str(replica.port),
        f"{prefix}HOST": "127.0.0.1",
    }
    for service in SERVICES:
        variable = f"UCAP_{service.upper()}_DATABASE"
        env[variable] = os.environ.get(variable, f"scale_{service}")
        if service != "gateway":
            env[f"UCAP_GATEWAY_{service.upper()}_URL"] = f"http://127.0.0.1:{front_port(service)}"
    return env


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=3) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def services_up(deadline: float) -> None:
    for replica in replicas():
        if replica.process.pid() is None:
            print(f"{replica.process.name}: starting at {replica.url}", flush=True)
            command = [sys.executable, "-m", f"ucap_{replica.service}"]
            replica.process.start(command, env=replica_env(replica), cwd=REPO_ROOT)
    pending = [*replicas()]
    while pending:
        for replica in list(pending):
            if replica.process.pid() is None:
                raise ucap_infra.InfraError(
                    f"{replica.process.name} exited; see {replica.process.log_file}\n"
                    f"{replica.process.log_tail()}"
                )
            if ready(replica.url):
                pending.remove(replica)
        if pending and time.monotonic() > deadline:
            names = ", ".join(r.process.name for r in pending)
            raise ucap_infra.InfraError(f"not ready in time: {names} (logs in {SCALE_DIR})")
        time.sleep(0.25)


# --- commands -------------------------------------------------------------------------


async def up(deadline_seconds: float) -> None:
    started = time.monotonic()
    deadline = started + deadline_seconds
    SCALE_DIR.mkdir(parents=True, exist_ok=True)
    await asyncio.gather(kafka_up(deadline), data_set_up(deadline))
    haproxy_up()
    await asyncio.to_thread(services_up, deadline)
    gateway = f"http://127.0.0.1:{front_port('gateway')}"
    # HAProxy puts a replica in rotation after two good checks: a second or so after it answers.
    while not await asyncio.to_thread(ready, gateway):
        if time.monotonic() > deadline:
            raise ucap_infra.InfraError(f"the load balancer at {gateway} reaches no gateway")
        await asyncio.sleep(0.25)
    print(f"scaled-out ucap ready in {time.monotonic() - started:.1f}s; gateway: {gateway}")


def down() -> None:
    for replica in reversed(replicas()):
        if replica.process.stop():
            print(f"{replica.process.name}: stopped")
    if HAPROXY.stop():
        print("haproxy: stopped")
    for node in kafka_nodes():
        if node.process.stop():
            print(f"{node.name}: stopped")
    started = set(DATA_SET_STARTED.read_text().split()) if DATA_SET_STARTED.exists() else set()
    for component in data_set():
        if component.label in started and component.server.process.stop():
            print(f"{component.label}: stopped")
    DATA_SET_STARTED.unlink(missing_ok=True)


def status() -> bool:
    processes = [
        *(n.process for n in kafka_nodes()),
        HAPROXY,
        *(r.process for r in replicas()),
    ]
    for process in processes:
        pid = process.pid()
        print(f"{process.name:12} {f'pid {pid}' if pid else 'not running'}")
    gateway = f"http://127.0.0.1:{front_port('gateway')}"
    answers = ready(gateway)
    print(f"gateway      {gateway} {'ready' if answers else 'NOT ready'}")
    return answers and all(p.pid() is not None for p in processes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_SECONDS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    try:
        if args.command == "up":
            asyncio.run(up(args.deadline))
        elif args.command == "down":
            down()
        else:
            return 0 if status() else 1
    except ucap_infra.InfraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
