"""What PostgreSQL does with a query FerretDB sends it: EXPLAIN through FerretDB.

FerretDB answers ``explain`` with PostgreSQL's own plan under ``queryPlanner`` and
says in ``filterPushdown`` whether any of the filter reached PostgreSQL (only its
equalities do; the rest is evaluated in FerretDB's memory). A test of a query
shape: ``await analyze(db.name, "commits")`` once the data is in, then
``assert await plan_uses_index(db, "commits", {"aggregate_id": "x"})``.

The local PostgreSQL is found as ``make infra-up`` starts it: 127.0.0.1, port
``UCAP_POSTGRES_PORT`` (5433), user ``postgres``, database ``ferretdb``, in which
each MongoDB database is a schema whose ``_ferretdb_database_metadata`` table maps
collection names to table names.
"""

import asyncio
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.mongo import MongoClient

Document = dict[str, Any]
INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})


class PostgresError(RuntimeError):
    """psql is missing, or the local PostgreSQL refused or failed the SQL."""


def postgres_port() -> int:
    return int(os.environ.get("UCAP_POSTGRES_PORT") or 5433)


async def ferretdb_on_postgresql(client: MongoClient) -> bool:
    """Whether the server is FerretDB storing in PostgreSQL (not MongoDB, not SQLite)."""
    build = await client.admin.command("buildInfo")
    if "ferretdbVersion" not in build:
        return False
    await client.admin.command("ping")  # FerretDB learns its backend on first use
    warnings = await client.admin.command("getLog", "startupWarnings")
    return any("PostgreSQL" in line for line in warnings.get("log", []))


async def psql(sql: str, **variables: str) -> str:
    """Run ``sql`` (with psql's ``:'name'`` / ``:"name"`` variables) in FerretDB's database."""
    binary = shutil.which("psql")
    if binary is None:
        raise PostgresError("psql is not on PATH")
    settings = [f"{name}={value}" for name, value in variables.items()]
    process = await asyncio.create_subprocess_exec(
        binary,
        *("-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"),
        *("-h", "127.0.0.1", "-p", str(postgres_port()), "-U", "postgres", "-d", "ferretdb"),
        *(option for setting in settings for option in ("-v", setting)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    output, error = await process.communicate(sql.encode())
    if process.returncode != 0:
        raise PostgresError(f"psql on port {postgres_port()}: {error.decode().strip()}")
    return output.decode().strip()


async def table_of(db_name: str, collection: str) -> str | None:
    """The PostgreSQL table FerretDB keeps ``collection`` of ``db_name`` in, if any."""
    metadata = await psql(
        "SELECT to_regclass(format('%I._ferretdb_database_metadata', :'db'))", db=db_name
    )
    if not metadata:
        return None
    table = await psql(
        "SELECT _jsonb ->> 'table' FROM :\"db\"._ferretdb_database_metadata"
        " WHERE _jsonb ->> '_id' = :'collection'",
        db=db_name,
        collection=collection,
    )
    return table or None


async def analyze(db_name: str, collection: str) -> str:
    """ANALYZE the collection's table, as autovacuum would soon; returns the table name."""
    table = await table_of(db_name, collection)
    if table is None:
        raise LookupError(
            f"no table for {db_name}.{collection} in the PostgreSQL on port {postgres_port()}"
        )
    await psql('ANALYZE :"db".:"table"', db=db_name, table=table)
    return table


@dataclass(frozen=True)
class Explained:
    pushdown: bool
    """Whether FerretDB sent (part of) the filter to PostgreSQL as a WHERE clause."""
    plan: Document
    """PostgreSQL's plan tree (EXPLAIN FORMAT JSON's ``Plan``)."""

    def nodes(self) -> Iterator[Document]:
        pending = [self.plan]
        while pending:
            node = pending.pop()
            yield node
            pending += node.get("Plans", [])

    @property
    def indexes(self) -> list[str]:
        """The indexes the plan scans."""
        return [node["Index Name"] for node in self.nodes() if node["Node Type"] in INDEX_SCANS]


async def explain(
    db: AsyncDatabase[Document], collection: str, query: Mapping[str, Any]
) -> Explained:
    answer = await db.command("explain", {"find": collection, "filter": dict(query)})
    return Explained(pushdown=bool(answer["filterPushdown"]), plan=answer["queryPlanner"]["Plan"])


async def plan_uses_index(
    db: AsyncDatabase[Document], collection: str, query: Mapping[str, Any]
) -> bool:
    """Whether PostgreSQL answers ``find(query)`` through an index, not a scan of the table."""
    explained = await explain(db, collection, query)
    return explained.pushdown and bool(explained.indexes)
