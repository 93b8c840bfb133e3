"""Run every ucap service and the gateway as local processes.

    python deploy/local/ucap_stack.py run     # start all, load the demo, restart any that
                                              # exits; Ctrl-C (or `down`) stops all
    python deploy/local/ucap_stack.py up      # start all in the background and return
    python deploy/local/ucap_stack.py down    # stop what `up` or `run` started

Expects the infrastructure to be up (``make infra-up``), or, with ``run --infra``, brings
it up itself and on exit stops only the servers it started. Ports come from
``UCAP_<SERVICE>_PORT`` (defaults 8000 gateway, 8001 cities, 8002 mous, 8003 pilots,
8004 reporting); the gateway is pointed at the services' ports. Each process serves its
metrics to a scraper on loopback at ``UCAP_<SERVICE>_METRICS_PORT`` (defaults 9180
gateway, 9181 cities, 9182 mous, 9183 pilots, 9184 reporting, the ports
``deploy/observability/prometheus.yml`` scrapes, while the HTTP port is the default).

``run`` then sets up the live demo (unless ``UCAP_DEMO=0``): demo credentials in
``<run dir>/demo-credentials.json``, ``deploy/demo/granada.json`` loaded through the
gateway with each city's own key, and the URLs of the status page, the programme page
and the API docs.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import ucap_infra
from ucap_procs import REPO_ROOT, RUN_DIR, ManagedProcess

DEFAULT_DEADLINE_SECONDS = 60.0
DEMO_FILE = REPO_ROOT / "deploy" / "demo" / "granada.json"


@dataclass(frozen=True)
class Service:
    name: str
    default_port: int

    @property
    def port(self) -> int:
        return int(os.environ.get(f"UCAP_{self.name.upper()}_PORT", self.default_port))

    @property
    def metrics_env(self) -> dict[str, str]:
        """The metrics listener's port: as set, else 1180 above the default HTTP port while
        that port is the default one (a stack moved to other ports, as tests run it, has
        no listener unless asked: two stacks never contend for one port)."""
        variable = f"UCAP_{self.name.upper()}_METRICS_PORT"
        if variable in os.environ:
            return {variable: os.environ[variable]}
        if self.port != self.default_port:
            return {}
        return {variable: str(self.default_port + 1180)}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(f"service-{self.name}")


SERVICES = [
    Service("cities", 8001),
    Service("mous", 8002),
    Service("pilots", 8003),
    Service("reporting", 8004),
    Service("gateway", 8000),
]


def ready_status(url: str) -> tuple[int, str]:
    """The status code and body of ``url``/health/ready; 0 when nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=3) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def upstream_urls() -> dict[str, str]:
    """Where the gateway finds each service (unless the environment says otherwise)."""
    urls = {}
    for service in SERVICES:
        variable = f"UCAP_GATEWAY_{service.name.upper()}_URL"
        if service.name != "gateway" and variable not in os.environ:
            urls[variable] = service.url
    return urls


def start(service: Service) -> subprocess.Popen[bytes]:
    env = {**service.metrics_env, **(upstream_urls() if service.name == "gateway" else {})}
    return service.process.start(
        [sys.executable, "-m", f"ucap_{service.name}"], env=env, cwd=REPO_ROOT
    )


def up(deadline_seconds: float) -> dict[str, subprocess.Popen[bytes]]:
    """Start every service not running yet and wait until all are ready; return the
    processes started here."""
    started = {}
    for service in SERVICES:
        if service.process.pid() is not None:
            print(f"{service.name:10} already running (pid {service.process.pid()})")
            continue
        started[service.name] = start(service)
    deadline = time.monotonic() + deadline_seconds
    pending = list(SERVICES)
    while pending and time.monotonic() < deadline:
        for service in list(pending):
            if service.process.pid() is None:
                down()
                raise SystemExit(
                    f"{service.name} exited; see {service.process.log_file}\n"
                    f"{service.process.log_tail()}"
                )
            code, _ = ready_status(service.url)
            if code == 200:
                print(f"{service.name:10} ready at {service.url}", flush=True)
                pending.remove(service)
        time.sleep(0.25)
    if pending:
        report = "\n".join(
            f"  {s.name}: {ready_status(s.url)} (log: {s.process.log_file})" for s in pending
        )
        down()
        raise SystemExit(f"not ready within {deadline_seconds:g}s:\n{report}")
    gateway = SERVICES[-1]
    print(f"\nucap is up. Gateway: {gateway.url}  API docs: {gateway.url}/docs")
    return started


def down() -> None:
    for service in reversed(SERVICES):
        if service.process.stop():
            print(f"{service.name:10} stopped")


def status() -> bool:
    healthy = True
    for service in SERVICES:
        code, body = ready_status(service.url)
        healthy &= code == 200
        detail = json.loads(body).get("status", body) if body.startswith("{") else body
        print(f"{service.name:10} {service.url:24} {code or 'down':>4} {detail}")
    return healthy


def local_infra() -> list[ManagedProcess]:
    """The local Kafka and FerretDB processes (none for an endpoint from the environment)."""
    return [c.server.process for c in ucap_infra.components() if not c.external]


def start_infra() -> None:
    deadline = float(os.environ.get("UCAP_INFRA_DEADLINE", ucap_infra.DEFAULT_DEADLINE_SECONDS))
    logging.basicConfig(level=logging.CRITICAL)
    try:
        asyncio.run(ucap_infra.up(deadline))
    except ucap_infra.InfraError as error:
        raise SystemExit(f"error: {error}") from error


def demo() -> None:
    if os.environ.get("UCAP_DEMO", "1") == "0":
        print("UCAP_DEMO=0: no demo data loaded", flush=True)
        return
    # Imported here: the venv's packages, which `down` (run by the system Python) lacks.
    from ucap_ops.demo import run_demo

    run_demo(SERVICES[-1].url, RUN_DIR, DEMO_FILE)


def run(deadline_seconds: float, *, infra: bool) -> None:
    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a process started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # What runs already is someone else's (an earlier `make infra-up`): left running.
    already_running = {p.name for p in local_infra() if p.pid() is not None} if infra else set()
    try:
        if infra:
            start_infra()
        started = up(deadline_seconds)
        demo()
        print("\nPress Ctrl-C to stop.", flush=True)
        stopped = supervise(started)
        print(f"{stopped} was stopped (make stop); stopping the others", flush=True)
    except KeyboardInterrupt:
        print("\nstopping …")
    finally:
        down()
        if infra:
            for process in local_infra():
                if process.name not in already_running and process.stop():
                    print(f"{process.name:10} stopped")


def supervise(started: dict[str, subprocess.Popen[bytes]]) -> str:
    """Restart any service that exits, until one is stopped on purpose; return its name."""
    # Imported here: the venv's packages, which `down` (run by the system Python) lacks.
    from ucap_supervisor import Adopted, Supervisor

    by_name = {service.name: service for service in SERVICES}
    supervisor = Supervisor(
        start=lambda name: start(by_name[name]),
        ready=lambda name: ready_status(by_name[name].url)[0] == 200,
        say=lambda line: print(line, flush=True),
    )
    for service in SERVICES:
        # Only a pid read for the adopted: reading one of ours could reap its exit code.
        process: subprocess.Popen[bytes] | Adopted | None = started.get(service.name)
        if process is None and (pid := service.process.pid()) is not None:
            process = Adopted(service.process, pid)
        if process is not None:
            supervisor.watch(service.name, service.process, process)
    while supervisor.step():
        time.sleep(0.25)
    return supervisor.stopped_on_purpose or "a service"


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the ucap services locally.")
    parser.add_argument("command", choices=["run", "up", "down", "status"])
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_SECONDS)
    parser.add_argument(
        "--infra",
        action="store_true",
        help="with run: bring the local Kafka and FerretDB up first where they do not answer, "
        "and stop the ones it started when it ends",
    )
    args = parser.parse_args()
    if args.command == "run":
        run(args.deadline, infra=args.infra)
    elif args.command == "up":
        up(args.deadline)
    elif args.command == "down":
        down()
    else:
        return 0 if status() else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
