"""Real service processes for tests: started, waited for, stopped."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
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
    for attempt in range(1, PORT_TRIES + 1):
        try:
            service = _started(name, env, log_dir, timeout)
            break
        except PortTakenError:
            if attempt == PORT_TRIES:
                raise
    try:
        yield service
    finally:
        stop_process(service.process)


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
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
