"""Servers a test plays itself: an HTTP server served from a thread, and a gateway process
pointed at some of them, with nothing listening where its other services would be."""

import contextlib
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from socketserver import BaseServer

from tests.support.keys import auth, create_key
from tests.support.processes import RunningService, free_port, run_service

GATEWAY_UPSTREAMS = ("cities", "mous", "pilots", "reporting")


@contextlib.contextmanager
def served(server: BaseServer) -> Iterator[None]:
    """``server`` answering from a thread of its own, shut down and closed afterwards."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def gateway_before(
    service_env: Mapping[str, str], upstreams: Mapping[str, str], logs: Path, **env: str
) -> Iterator[RunningService]:
    """A gateway process, with an admin's headers, that finds each service of ``upstreams``
    at its URL; every connection to one it does not name is refused."""
    settings = {
        **service_env,
        "UCAP_GATEWAY_DATABASE": f"test_gw_{uuid.uuid4().hex[:8]}",
        **{
            f"UCAP_GATEWAY_{name.upper()}_URL": upstreams.get(
                name, f"http://127.0.0.1:{free_port()}"
            )
            for name in GATEWAY_UPSTREAMS
        },
        **env,
    }
    admin = create_key(settings, principal="ops:test", roles=["admin"])["key"]
    with run_service("gateway", settings, logs) as running:
        running.headers = auth(admin)
        yield running
