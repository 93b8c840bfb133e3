"""Local Kafka and MongoDB-protocol servers for development and tests.

    python deploy/local/ucap_infra.py up|down|status

``up`` resolves the Kafka broker from its Maven artifacts and builds the
FerretDB launcher (both cached under ``.cache/``), starts what is not already
answering, and waits until Kafka answers a metadata request and MongoDB a
``ping``. Where ``KAFKA_BOOTSTRAP_SERVERS`` or ``MONGODB_URI`` is set, that
endpoint is used and nothing is started for it.
"""

import argparse
import asyncio
import base64
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from ucap_procs import CACHE_DIR, REPO_ROOT, RUN_DIR, ManagedProcess

HERE = Path(__file__).resolve().parent
KAFKA_POM = HERE / "kafka" / "pom.xml"
FERRETDB_SOURCE = HERE / "ferretdb"
DEFAULT_DEADLINE_SECONDS = 120.0


class InfraError(RuntimeError):
    """A server could not be prepared or did not become ready."""


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()[:12]


def _run(
    command: list[str], *, what: str, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None
) -> None:
    print(f"  {what} …", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise InfraError(f"{what} failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")
    print(f"  {what}: done in {time.monotonic() - started:.1f}s", flush=True)


def _require(tool: str, hint: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise InfraError(f"`{tool}` is not on PATH: {hint}")
    return found


# --- Kafka -----------------------------------------------------------------


@dataclass(frozen=True)
class KafkaServer:
    port: int
    controller_port: int
    heap: str
    home: Path
    name: str = "kafka"

    @classmethod
    def from_env(cls) -> "KafkaServer":
        return cls(
            port=_env_int("UCAP_KAFKA_PORT", 9092),
            controller_port=_env_int("UCAP_KAFKA_CONTROLLER_PORT", 9093),
            heap=os.environ.get("UCAP_KAFKA_HEAP", "512m"),
            home=RUN_DIR / "kafka",
        )

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(self.name)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def libs(self) -> Path:
        return CACHE_DIR / "kafka" / _digest(KAFKA_POM) / "libs"

    def prepare(self) -> None:
        """Resolve the broker's jars with Maven, once per version of the pom."""
        if (self.libs / ".complete").exists():
            return
        _require("java", "install a Java 17+ runtime")
        mvn = _require("mvn", "install Apache Maven")
        shutil.rmtree(self.libs, ignore_errors=True)
        _run(
            [
                mvn,
                "-B",
                "-q",
                f"-Dmaven.repo.local={CACHE_DIR / 'm2'}",
                "-f",
                str(KAFKA_POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.libs}",
                "-DincludeScope=runtime",
            ],
            what="resolving the Kafka broker with Maven",
        )
        (self.libs / ".complete").touch()

    def _java(self, main_class: str, *args: str, heap: bool = False) -> list[str]:
        command = [_require("java", "install a Java 17+ runtime")]
        if heap:
            command += [f"-Xms{min(256, _megabytes(self.heap))}m", f"-Xmx{self.heap}"]
        return [
            *command,
            "-cp",
            f"{self.libs}/*",
            f"-Dlog4j2.configurationFile={HERE / 'kafka' / 'log4j2.properties'}",
            main_class,
            *args,
        ]

    def start(self) -> subprocess.Popen[bytes]:
        data = self.home / "data"
        config = self.home / "server.properties"
        self.home.mkdir(parents=True, exist_ok=True)
        template = (HERE / "kafka" / "server.properties.template").read_text()
        config.write_text(
            template.format(port=self.port, controller_port=self.controller_port, log_dir=data)
        )
        if not (data / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            _run(
                self._java(
                    "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)
                ),
                what="formatting Kafka storage",
            )
        return self.process.start(self._java("kafka.Kafka", str(config), heap=True))

    async def ping(self) -> None:
        from ucap_shared.kafka import ping_kafka

        await ping_kafka(self.bootstrap)


def _megabytes(size: str) -> int:
    units = {"m": 1, "g": 1024}
    return int(size[:-1]) * units[size[-1].lower()] if size[-1].lower() in units else int(size)


# --- FerretDB --------------------------------------------------------------


@dataclass(frozen=True)
class FerretDBServer:
    port: int
    data: Path
    name: str = "ferretdb"

    @classmethod
    def from_env(cls) -> "FerretDBServer":
        return cls(port=_env_int("UCAP_MONGO_PORT", 27017), data=RUN_DIR / "ferretdb" / "data")

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(self.name)

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @staticmethod
    def binary() -> Path:
        go_files = sorted(FERRETDB_SOURCE.glob("*.go"))
        sources = [*go_files, FERRETDB_SOURCE / "go.mod", FERRETDB_SOURCE / "go.sum"]
        return CACHE_DIR / "bin" / f"ucap-ferretdb-{_digest(*sources)}"

    def prepare(self) -> None:
        """Build the launcher with the Go toolchain, once per version of its sources."""
        binary = self.binary()
        if binary.exists():
            return
        go = _require("go", "install Go 1.24+")
        binary.parent.mkdir(parents=True, exist_ok=True)
        _run(
            [go, "build", "-trimpath", "-o", str(binary), "."],
            what="building the FerretDB launcher with Go",
            cwd=FERRETDB_SOURCE,
            env={
                "GOMODCACHE": str(CACHE_DIR / "go" / "mod"),
                "GOCACHE": str(CACHE_DIR / "go" / "build"),
                "GOFLAGS": "-mod=readonly -buildvcs=false",
                "CGO_ENABLED": "0",
            },
        )

    def start(self) -> subprocess.Popen[bytes]:
        self.data.mkdir(parents=True, exist_ok=True)
        return self.process.start(
            [str(self.binary()), "-listen", f"127.0.0.1:{self.port}", "-data", str(self.data)]
        )

    async def ping(self) -> None:
        from ucap_shared.mongo import connect_mongo, ping_mongo

        client = connect_mongo(self.uri, timeout_ms=1000)
        try:
            await ping_mongo(client)
        finally:
            await client.close()


# --- orchestration ---------------------------------------------------------


Server = KafkaServer | FerretDBServer


@dataclass(frozen=True)
class Component:
    """One piece of infrastructure: a local server, or an external endpoint."""

    label: str
    endpoint: str
    external: bool
    server: Server


def components() -> list[Component]:
    kafka = KafkaServer.from_env()
    mongo = FerretDBServer.from_env()
    external_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    external_mongo = os.environ.get("MONGODB_URI")
    return [
        Component("kafka", external_kafka or kafka.bootstrap, bool(external_kafka), kafka),
        Component("mongodb", external_mongo or mongo.uri, bool(external_mongo), mongo),
    ]


async def _answers(ping: Callable[[], Awaitable[None]], timeout: float = 3.0) -> bool:
    try:
        await asyncio.wait_for(ping(), timeout)
    except Exception:  # noqa: BLE001 - any failure means it does not answer
        return False
    return True


async def _ping_component(component: Component) -> None:
    if not component.external:
        await component.server.ping()
    elif component.label == "kafka":
        from ucap_shared.kafka import ping_kafka

        await ping_kafka(component.endpoint)
    else:
        from ucap_shared.mongo import connect_mongo, ping_mongo

        client = connect_mongo(component.endpoint, timeout_ms=1000)
        try:
            await ping_mongo(client)
        finally:
            await client.close()


async def _wait_ready(
    component: Component, process: subprocess.Popen[bytes] | None, deadline: float
) -> None:
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise InfraError(
                f"{component.label} exited with status {process.returncode}; "
                f"see {component.server.process.log_file}\n{component.server.process.log_tail()}"
            )
        if await _answers(lambda: _ping_component(component), timeout=2.0):
            return
        await asyncio.sleep(0.25)
    where = "" if component.external else f"; see {component.server.process.log_file}"
    tail = "" if component.external else "\n" + component.server.process.log_tail()
    raise InfraError(f"{component.label} at {component.endpoint} is not ready in time{where}{tail}")


async def up(deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> None:
    started = time.monotonic()
    todo = components()
    to_prepare = [
        component.server
        for component in todo
        if not component.external and not await _answers(component.server.ping)
    ]
    await asyncio.gather(*(asyncio.to_thread(server.prepare) for server in to_prepare))
    deadline = time.monotonic() + deadline_seconds
    waits = []
    for component in todo:
        process = None
        if component.external:
            print(f"{component.label}: using {component.endpoint} (from the environment)")
        elif await _answers(component.server.ping):
            print(f"{component.label}: already answering at {component.endpoint}")
        else:
            print(f"{component.label}: starting at {component.endpoint}", flush=True)
            process = component.server.start()
        waits.append(_wait_ready(component, process, deadline))
    await asyncio.gather(*waits)
    print(f"infrastructure ready in {time.monotonic() - started:.1f}s", flush=True)


def down() -> None:
    for component in components():
        if component.external:
            continue
        stopped = component.server.process.stop()
        print(f"{component.label}: {'stopped' if stopped else 'not running'}")


async def status() -> bool:
    healthy = True
    for component in components():
        answers = await _answers(lambda c=component: _ping_component(c))  # type: ignore[misc]
        healthy &= answers
        pid = None if component.external else component.server.process.pid()
        origin = "external" if component.external else f"pid {pid}" if pid else "not started here"
        state = "answering" if answers else "NOT answering"
        print(f"{component.label:8} {component.endpoint:32} {state:14} ({origin})")
    return healthy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument(
        "--deadline",
        type=float,
        default=float(os.environ.get("UCAP_INFRA_DEADLINE", DEFAULT_DEADLINE_SECONDS)),
        help="seconds to wait for the servers to answer (default %(default)s)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    try:
        if args.command == "up":
            asyncio.run(up(args.deadline))
        elif args.command == "down":
            down()
        else:
            return 0 if asyncio.run(status()) else 1
    except InfraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
