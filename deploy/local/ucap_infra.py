"""Local Kafka and MongoDB-protocol servers for development and tests.

    python deploy/local/ucap_infra.py up|down|status

``up`` resolves the Kafka broker from its Maven artifacts and builds the
FerretDB launcher (both cached under ``.cache/``), starts what is not already
answering, and waits until Kafka answers a metadata request and MongoDB a
``ping``. FerretDB stores its data in a PostgreSQL cluster of its own, started
first. Where ``KAFKA_BOOTSTRAP_SERVERS`` or ``MONGODB_URI`` is set, that
endpoint is used and nothing is started for it.
"""

import argparse
import asyncio
import base64
import hashlib
import logging
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import ucap_postgres
from ucap_procs import CACHE_DIR, REPO_ROOT, RUN_DIR, ManagedProcess

HERE = Path(__file__).resolve().parent
KAFKA_POM = HERE / "kafka" / "pom.xml"
FERRETDB_SOURCE = HERE / "ferretdb"
FERRETDB_BUILD_TAGS = "ferretdb_no_sqlite"
"""ucap stores in PostgreSQL only: without FerretDB's SQLite backend (a large pure-Go
SQLite) the launcher builds in about two thirds of the time."""
FERRETDB_GOGC = "400"
DEFAULT_DEADLINE_SECONDS = 120.0


class InfraError(RuntimeError):
    """A server could not be prepared or did not become ready."""


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _digest(*paths: Path, extra: bytes = b"") -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    sha.update(extra)
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
    node_id: int = 1
    quorum_voters: str = ""
    """``controller.quorum.voters``: every controller of the cluster (this node alone if empty)."""
    replication: int = 1
    """The replication factor of Kafka's own topics (offsets, transactions)."""
    min_insync: int = 1
    cluster_id: str | None = None
    """The id its storage is formatted with: one for all nodes of a cluster (else a new one)."""
    run_dir: Path | None = None
    """Where its pid and log files go (``ucap_procs.RUN_DIR`` when None)."""

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
        return ManagedProcess(self.name, run_dir=self.run_dir)

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
        config.write_text(self._server_properties(data))
        if not (data / "meta.properties").exists():
            cluster_id = self.cluster_id or new_cluster_id()
            _run(
                self._java(
                    # The "=" form: a random id may begin with "-", which would read as an option.
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={cluster_id}",
                    "-c",
                    str(config),
                ),
                what="formatting Kafka storage",
            )
        return self.process.start(self._java("kafka.Kafka", str(config), heap=True))

    def _server_properties(self, data: Path) -> str:
        from ucap_shared.kafka import MAX_RECORD_BYTES

        template = (HERE / "kafka" / "server.properties.template").read_text()
        return template.format(
            port=self.port,
            controller_port=self.controller_port,
            log_dir=data,
            message_max_bytes=MAX_RECORD_BYTES,
            node_id=self.node_id,
            quorum_voters=self.quorum_voters or f"{self.node_id}@127.0.0.1:{self.controller_port}",
            replication=self.replication,
            min_insync=self.min_insync,
        )

    async def ping(self) -> None:
        from ucap_shared.kafka import ping_kafka

        await ping_kafka(self.bootstrap)


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def _megabytes(size: str) -> int:
    units = {"m": 1, "g": 1024}
    return int(size[:-1]) * units[size[-1].lower()] if size[-1].lower() in units else int(size)


# --- PostgreSQL ------------------------------------------------------------


def _as_cluster_owner(command: list[str]) -> list[str]:
    """``command`` run as the ``postgres`` user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return command
    owner = _cluster_owner()
    return [
        "setpriv",
        f"--reuid={owner.pw_uid}",
        f"--regid={owner.pw_gid}",
        "--init-groups",
        *command,
    ]


def _cluster_owner() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(ucap_postgres.OS_USER)
    except KeyError:
        raise InfraError(
            f"PostgreSQL refuses to run as root and there is no `{ucap_postgres.OS_USER}` user: "
            f"install Debian's {ucap_postgres.DEBIAN_PACKAGE} package, which creates it"
        ) from None


def _owned_directory(path: Path, mode: int = 0o755) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    if os.geteuid() == 0:
        owner = _cluster_owner()
        os.chown(path, owner.pw_uid, owner.pw_gid)


@dataclass(frozen=True)
class PostgresProcess(ManagedProcess):
    """The postmaster, stopped by pg_ctl's fast mode: clients are disconnected, not awaited."""

    data: Path

    def stop(self, *, grace_seconds: float = 20.0) -> bool:
        if self.pid() is None:
            return super().stop(grace_seconds=grace_seconds)
        pg_ctl = str(ucap_postgres.BIN_DIR / "pg_ctl")
        wait = str(int(grace_seconds))
        subprocess.run(
            _as_cluster_owner([pg_ctl, "stop", "-D", str(self.data), "-m", "fast", "-t", wait]),
            capture_output=True,
            check=False,
        )
        super().stop(grace_seconds=grace_seconds)
        return True


def _postgres_home(run_dir: Path) -> Path:
    """``<run dir>/postgres``, or a folder of its own when PostgreSQL could not reach that.

    As root, PostgreSQL runs as the ``postgres`` user, which needs to pass through
    every folder above its data: a checkout under a private home (mode 0700) does
    not let it, so its cluster lives under /var/lib/ucap then, named after the run dir.
    """
    home = run_dir.resolve() / "postgres"
    if os.geteuid() != 0 or all(
        folder.stat().st_mode & stat.S_IXOTH for folder in home.parents if folder.exists()
    ):
        return home
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    return Path("/var/lib/ucap") / f"postgres-{digest}"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    home: Path
    name: str = "postgres"

    @classmethod
    def from_env(cls) -> "PostgresServer":
        return cls(port=_env_int("UCAP_POSTGRES_PORT", 5433), home=_postgres_home(RUN_DIR))

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def process(self) -> PostgresProcess:
        return PostgresProcess(self.name, data=self.data)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    @property
    def ferretdb_url(self) -> str:
        """FerretDB reaches the cluster over its Unix socket: every command costs both
        processes a few system calls less than over loopback TCP."""
        return (
            f"postgres://{ucap_postgres.SUPERUSER}@/{ucap_postgres.DATABASE}"
            f"?host={quote(str(self.socket_dir), safe='/')}&port={self.port}"
            f"&pool_max_conns={ucap_postgres.FERRETDB_POOL_MAX_CONNS}"
            "&pool_max_conn_idle_time=1m&sslmode=disable"
        )

    @staticmethod
    def _binary(name: str) -> str:
        return str(ucap_postgres.BIN_DIR / name)

    def prepare(self) -> None:
        """Install Debian's PostgreSQL 15 where it is missing and we may (root, apt-get)."""
        if all(
            (ucap_postgres.BIN_DIR / tool).exists()
            for tool in ("initdb", "postgres", "pg_ctl", "psql")
        ):
            return
        package = ucap_postgres.DEBIAN_PACKAGE
        apt_get = shutil.which("apt-get")
        if os.geteuid() != 0 or apt_get is None:
            raise InfraError(
                f"PostgreSQL 15 is not installed (nothing in {ucap_postgres.BIN_DIR}): "
                f"install Debian's {package} package (as root, this command installs it)"
            )
        print(f"postgres: installing Debian's {package} with apt-get", flush=True)
        _run([apt_get, "update", "-qq"], what="apt-get update")
        _run(
            [apt_get, "install", "-y", "-qq", package],
            what=f"apt-get install {package}",
            env={"DEBIAN_FRONTEND": "noninteractive"},
        )

    def _initdb(self) -> None:
        """Create the cluster in a scratch folder, renamed into place only when complete."""
        scratch = self.home / "data.initdb"
        shutil.rmtree(scratch, ignore_errors=True)
        _owned_directory(scratch, mode=0o700)
        _run(
            _as_cluster_owner(
                [
                    self._binary("initdb"),
                    *("-D", str(scratch), "-U", ucap_postgres.SUPERUSER),
                    *("-E", "UTF8", "--locale=C", "--auth=trust", "--no-instructions"),
                ]
            ),
            what="creating the PostgreSQL cluster",
            cwd=self.home,
        )
        scratch.rename(self.data)

    def start(self) -> subprocess.Popen[bytes]:
        _owned_directory(self.home)
        reachable = subprocess.run(_as_cluster_owner(["test", "-w", str(self.home)]), check=False)
        if reachable.returncode != 0:
            raise InfraError(
                f"the `{ucap_postgres.OS_USER}` user, which PostgreSQL runs as when we are root, "
                f"cannot reach {self.home}: let it through the folders above (chmod o+x) "
                "or set UCAP_RUN_DIR elsewhere"
            )
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        sockets = self.socket_dir
        _owned_directory(sockets)
        config, hba = self.home / "postgresql.conf", self.home / "pg_hba.conf"
        config.write_text(
            ucap_postgres.server_config(port=self.port, socket_dir=sockets, hba_file=hba)
        )
        hba.write_text(ucap_postgres.HBA_CONFIG)
        return self.process.start(
            _as_cluster_owner(
                [self._binary("postgres"), "-D", str(self.data), "-c", f"config_file={config}"]
            ),
            cwd=self.home,
        )

    def _psql(self, database: str) -> list[str]:
        return [
            self._binary("psql"),
            *("-X", "-q", "-t", "-v", "ON_ERROR_STOP=1"),
            *("-h", "127.0.0.1", "-p", str(self.port), "-U", ucap_postgres.SUPERUSER),
            *("-d", database),
        ]

    async def ping(self) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._psql("postgres"),
            *("-c", "SELECT 1"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PGCONNECT_TIMEOUT": "2"},
        )
        _, error = await process.communicate()
        if process.returncode != 0:
            raise InfraError(f"PostgreSQL at {self.endpoint}: {error.decode().strip()}")

    def configure(self) -> None:
        """The database FerretDB uses and the trigger giving its indexes GIN twins (idempotent)."""
        for database, script, single_transaction in (
            ("postgres", ucap_postgres.CREATE_DATABASE_SQL, False),
            (ucap_postgres.DATABASE, ucap_postgres.GIN_TWINS_SQL, True),
        ):
            options = ["--single-transaction"] if single_transaction else []
            result = subprocess.run(
                [*self._psql(database), *options, "-v", f"database={ucap_postgres.DATABASE}"],
                input=script,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise InfraError(
                    f"setting up PostgreSQL at {self.endpoint} (database {database}) failed:\n"
                    f"{result.stdout}{result.stderr}"
                )


# --- FerretDB --------------------------------------------------------------


@dataclass(frozen=True)
class FerretDBServer:
    """FerretDB storing in the PostgreSQL at ``postgresql_url``."""

    port: int
    postgresql_url: str
    name: str = "ferretdb"

    @classmethod
    def from_env(cls) -> "FerretDBServer":
        return cls(
            port=_env_int("UCAP_MONGO_PORT", 27017),
            postgresql_url=PostgresServer.from_env().ferretdb_url,
        )

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
        tags = FERRETDB_BUILD_TAGS.encode()
        return CACHE_DIR / "bin" / f"ucap-ferretdb-{_digest(*sources, extra=tags)}"

    def prepare(self) -> None:
        """Build the launcher with the Go toolchain, once per version of its sources."""
        binary = self.binary()
        if binary.exists():
            return
        go = _require("go", "install Go 1.24+")
        binary.parent.mkdir(parents=True, exist_ok=True)
        _run(
            [go, "build", "-trimpath", "-tags", FERRETDB_BUILD_TAGS, "-o", str(binary), "."],
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
        command = [
            str(self.binary()),
            *("-listen", f"127.0.0.1:{self.port}"),
            *("-postgresql-url", self.postgresql_url),
        ]
        # FerretDB allocates a document's every value anew for each command: at Go's default
        # (100) its collector took about an eighth of its CPU under a steady write load. Its
        # heap stays in the tens of megabytes, so trading memory for that CPU is cheap.
        gogc = os.environ.get("UCAP_FERRETDB_GOGC", FERRETDB_GOGC)
        return self.process.start(command, env={"GOGC": gogc})

    async def ping(self) -> None:
        from ucap_shared.mongo import connect_mongo, ping_mongo

        client = connect_mongo(self.uri, timeout_ms=1000)
        try:
            await ping_mongo(client)
        finally:
            await client.close()


# --- orchestration ---------------------------------------------------------


Server = KafkaServer | PostgresServer | FerretDBServer


@dataclass(frozen=True)
class Component:
    """One piece of infrastructure: a local server, or an external endpoint."""

    label: str
    endpoint: str
    external: bool
    server: Server
    after: tuple[str, ...] = ()
    """Labels of the components that must be ready before this one starts."""


def components() -> list[Component]:
    """In the order to stop them: FerretDB before the PostgreSQL it uses."""
    kafka = KafkaServer.from_env()
    postgres = PostgresServer.from_env()
    mongo = FerretDBServer.from_env()
    external_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    external_mongo = os.environ.get("MONGODB_URI")
    found = [
        Component("kafka", external_kafka or kafka.bootstrap, bool(external_kafka), kafka),
    ]
    if external_mongo:
        found.append(Component("mongodb", external_mongo, True, mongo))
    else:
        found += [
            Component("mongodb", mongo.uri, False, mongo, after=("postgres",)),
            Component("postgres", postgres.endpoint, False, postgres),
        ]
    return found


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


async def _bring_up(
    component: Component, dependencies: list[asyncio.Task[None]], deadline: float
) -> None:
    for dependency in dependencies:
        await dependency
    process = None
    if component.external:
        print(f"{component.label}: using {component.endpoint} (from the environment)")
    elif await _answers(component.server.ping):
        print(f"{component.label}: already answering at {component.endpoint}")
    else:
        print(f"{component.label}: starting at {component.endpoint}", flush=True)
        process = await asyncio.to_thread(component.server.start)
    await _wait_ready(component, process, deadline)
    if isinstance(component.server, PostgresServer):
        await asyncio.to_thread(component.server.configure)


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
    by_label = {component.label: component for component in todo}
    tasks: dict[str, asyncio.Task[None]] = {}

    def task_for(label: str) -> asyncio.Task[None]:
        if label not in tasks:
            component = by_label[label]
            dependencies = [task_for(dependency) for dependency in component.after]
            tasks[label] = asyncio.create_task(_bring_up(component, dependencies, deadline))
        return tasks[label]

    await asyncio.gather(*(task_for(component.label) for component in todo))
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
