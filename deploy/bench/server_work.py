"""The local MongoDB-protocol server's work, counted in PostgreSQL transactions.

FerretDB turns each operation it is sent into one or more PostgreSQL
transactions. Their count over a load run, less what the idle stack commits
meanwhile, divided by the writes served, is how much of the server one write
takes; the same count over raw ``insert_one`` in the same run prices one insert.
With the raw rate, that gives the rate the server alone would allow the writes.

PostgreSQL reports a backend's counts late: at most once a second while it is
busy, and up to ten seconds after it falls idle. So each reading after a load
waits ``QUIET_SECONDS`` first, and the idle stack's own rate (its leases, relay
polls and kept statuses) is measured over ``IDLE_SECONDS`` and subtracted.

Only where ``make infra-up``'s PostgreSQL answers (``UCAP_POSTGRES_PORT``,
default 5433, on loopback); with another server nothing is counted.
"""

import asyncio
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

PSQL = Path("/usr/lib/postgresql/15/bin/psql")
DATABASE = "ferretdb"
"""FerretDB's own database in the local cluster (``ucap_postgres.DATABASE``)."""
QUIET_SECONDS = 11.0
IDLE_SECONDS = 10.0
COMMITTED = (
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
)


def psql_binary() -> str | None:
    return str(PSQL) if PSQL.exists() else shutil.which("psql")


@dataclass(frozen=True)
class Reading:
    transactions: int
    at: float
    """``time.monotonic()`` when read."""


@dataclass(frozen=True)
class Window:
    """Two readings around some writes, and the idle stack's rate to take off."""

    before: Reading
    after: Reading
    idle_per_second: float

    def per_write(self, writes: int) -> float | None:
        if writes <= 0:
            return None
        elapsed = self.after.at - self.before.at
        spent = self.after.transactions - self.before.transactions
        return max(0.0, spent - self.idle_per_second * elapsed) / writes


class ServerWork:
    def __init__(self, psql: str, port: int) -> None:
        self._command = [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        self._command += ["-d", DATABASE, "-At", "-c", COMMITTED]

    @classmethod
    async def local(cls) -> "ServerWork | None":
        """The local server's counter, or None where there is none to read."""
        psql = psql_binary()
        if psql is None:
            return None
        work = cls(psql, int(os.environ.get("UCAP_POSTGRES_PORT", "5433")))
        try:
            await work.read()
        except (OSError, ValueError):
            return None
        return work

    async def read(self) -> Reading:
        process = await asyncio.create_subprocess_exec(
            *self._command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise OSError(f"psql exited {process.returncode}")
        return Reading(int(output.decode().strip()), time.monotonic())

    async def after_quiet(self) -> Reading:
        """A reading that holds everything committed before the quiet time."""
        await asyncio.sleep(QUIET_SECONDS)
        return await self.read()

    async def idle_rate(self, quiet: Reading | None = None) -> tuple[float, Reading]:
        """The idle stack's transactions per second, and the reading that ends it.

        ``quiet``: a reading taken after the quiet time, with nothing but the idle stack
        since, to start from instead of waiting for another one."""
        start = quiet or await self.after_quiet()
        await asyncio.sleep(IDLE_SECONDS)
        end = await self.read()
        return (end.transactions - start.transactions) / (end.at - start.at), end
