"""Real service processes for tests: started, waited for, stopped."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningService:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    env: Mapping[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    """What a test sends with each request: its credentials."""


PORT_TRIES = 3
"""A free port may be taken by another process before the service binds it: it tries anew."""


class PortTakenError(RuntimeError):
    """The service exited because another process bound its port first."""


@contextmanager
def run_service(
    name: str, env: Mapping[str, str], log_dir: Path, *, timeout: float = 60.0
) -> Iterator[RunningService]:
    """Start ``python -m ucap_<name>`` on a free port and wait until it answers."""
    service = _started_on_a_free_port(name, env, log_dir, timeout)
    try:
        yield service
    finally:
        stop_process(service.process)


@contextmanager
def run_services(
    names: Sequence[str], env: Mapping[str, str], log_dir: Path, *, timeout: float = 60.0
) -> Iterator[dict[str, RunningService]]:
    """Start several services at once and wait until each answers, by name.

    Their start-ups overlap (mostly imports, then Kafka and database connections), which
    one after another would add up; all are stopped together at the end, or as soon as
    one fails to start."""
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        starting = [pool.submit(_started_on_a_free_port, n, env, log_dir, timeout) for n in names]
    started = [future.result() for future in starting if future.exception() is None]
    try:
        for future in starting:
            future.result()
        yield {service.name: service for service in started}
    finally:
        stop_processes([service.process for service in started])


def _started_on_a_free_port(
    name: str, env: Mapping[str, str], log_dir: Path, timeout: float
) -> RunningService:
    for _ in range(PORT_TRIES - 1):
        try:
            return _started(name, env, log_dir, timeout)
        except PortTakenError:
            continue
    return _started(name, env, log_dir, timeout)


def _started(name: str, env: Mapping[str, str], log_dir: Path, timeout: float) -> RunningService:
    port = free_port()
    log = log_dir / f"{name}-{port}.log"
    prefix = f"UCAP_{name.upper()}_"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", f"ucap_{name}"],
            env={**env, f"{prefix}PORT": str(port), f"{prefix}HOST": "127.0.0.1"},
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    service = RunningService(name, f"http://127.0.0.1:{port}", process, log, env)
    try:
        _wait_until_live(service, timeout)
    except BaseException:
        stop_process(process)
        raise
    return service


def _wait_until_live(service: RunningService, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if service.process.poll() is not None:
            output = service.log.read_text()
            if "address already in use" in output:
                raise PortTakenError(f"{service.name}: {service.url} was taken")
            raise RuntimeError(f"{service.name} exited early:\n{output}")
        try:
            if httpx.get(f"{service.url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{service.name} did not answer within {timeout:g}s:\n{service.log.read_text()}"
            )
        time.sleep(0.1)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate, and kill what is still running 10 s later."""
    stop_processes([process])


def stop_processes(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Terminate all at once, then kill each that is still running 10 s later."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
