"""`ucap keys create|list|revoke`: the gateway's API keys, in its own key store (the
gateway's database, found as the gateway finds it: ``MONGODB_URI``,
``UCAP_GATEWAY_DATABASE``)."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pymongo.errors import PyMongoError

from ucap_gateway.operator_access import (
    KeyRecord,
    KeyStore,
    NewKey,
    key_store_address,
    opened_key_store,
)
from ucap_ops.gateway_access import fail
from ucap_shared.auth import Role

app = typer.Typer(help="Create, list and revoke the gateway's API keys.", no_args_is_help=True)

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def with_store(action: Callable[[KeyStore], Awaitable[T]]) -> T:
    """Run ``action`` on the gateway's key store; exits with a clear error when MongoDB does
    not answer."""

    async def run() -> T:
        async with opened_key_store() as store:
            return await action(store)

    try:
        return asyncio.run(run())
    except PyMongoError as error:
        fail(f"the key store (MongoDB at {key_store_address()}) does not answer: {error}")


async def create_key(store: KeyStore, principal: str, roles: list[Role]) -> NewKey:
    await store.create_indexes()
    return await store.create(principal, roles)


def as_json(record: KeyRecord) -> dict[str, object]:
    return record.model_dump(mode="json")


@app.command("create")
def create_command(
    role: Annotated[
        list[Role],
        typer.Option("--role", help="publisher, reader or admin (repeat for several)"),
    ],
    city: Annotated[
        str | None, typer.Option(help="A city system's key, e.g. granada", show_default=False)
    ] = None,
    principal: Annotated[
        str | None, typer.Option(help="iuc, or ops:<name>", show_default=False)
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a key; the key itself is shown once, only its hash is kept."""
    if (city is None) == (principal is None):
        fail("name who holds the key: --city or --principal (one of them)", code=2)
    who = f"city:{city}" if city is not None else str(principal)
    try:
        new = with_store(lambda store: create_key(store, who, role))
    except ValueError as error:
        fail(str(error), code=2)
    if json_output:
        typer.echo(json.dumps({"key": new.secret, **as_json(new.record)}))
    else:
        roles = ", ".join(new.record.roles)
        typer.echo(f"created key {new.record.key_id} for {who} ({roles})")
        typer.echo(f"key (shown once): {new.secret}")


@app.command("list")
def list_command(json_output: JsonOption = False) -> None:
    """Every key with its holder, roles, and when it was created, last used and revoked."""
    records = with_store(lambda store: store.list())
    if json_output:
        typer.echo(json.dumps([as_json(record) for record in records]))
        return
    if not records:
        typer.echo("no keys")
    for record in records:
        typer.echo(record.describe())


@app.command("revoke")
def revoke_command(
    key_id: Annotated[str, typer.Argument(help="The key's id (ucap_<id>_…)", show_default=False)],
    json_output: JsonOption = False,
) -> None:
    """Revoke a key: the gateway refuses it (401) from now on."""
    revoked = with_store(lambda store: store.revoke(key_id))
    if not revoked:
        fail(f"no active key {key_id}")
    if json_output:
        typer.echo(json.dumps({"key_id": key_id, "revoked": True}))
    else:
        typer.echo(f"revoked {key_id}")
