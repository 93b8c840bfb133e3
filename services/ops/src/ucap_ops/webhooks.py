"""`ucap webhooks list|redeliver`: the reporting service's webhook deliveries.

Reporting's consumers write a delivery for each change a subscription wants; its
worker posts it, retries it with backoff, and after its last try
(``UCAP_REPORTING_WEBHOOK_MAX_ATTEMPTS``) sets it aside as dead. These commands read
the reporting database (``webhook_deliveries``) as the service's own settings name it.
Once the receiver is fixed, ``redeliver`` makes a dead delivery pending again with its
tries counted anew, and records who did; the worker posts it within its poll.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated

import typer
from pymongo.asynchronous.database import AsyncDatabase
from rich.table import Table

from ucap_ops.backbone import fail, run
from ucap_ops.targets import service_target
from ucap_ops.terminal import JsonOption, operator_name, wide_console
from ucap_reporting import operator_access as deliveries
from ucap_reporting.operator_access import Delivery, DeliveryState
from ucap_shared.mongo import connect_mongo
from ucap_shared.views import Document

app = typer.Typer(
    help="Webhook deliveries: list them (the dead-lettered ones), redeliver dead ones.",
    no_args_is_help=True,
)


@asynccontextmanager
async def reporting_database() -> AsyncIterator[AsyncDatabase[Document]]:
    target = service_target("reporting")
    mongo = connect_mongo(target.settings.mongodb_uri)
    try:
        yield mongo[target.settings.database]
    finally:
        await mongo.close()


async def _listed(
    state: DeliveryState | None, subscription: str | None, limit: int
) -> list[Delivery]:
    async with reporting_database() as database:
        return await deliveries.listed(
            database, state=state, subscription_id=subscription, limit=limit
        )


@app.command("list")
def list_command(
    dead: Annotated[bool, typer.Option("--dead", help="Only dead-lettered deliveries.")] = False,
    state: Annotated[
        DeliveryState | None, typer.Option("--state", help="Only deliveries in this state.")
    ] = None,
    subscription: Annotated[
        str | None, typer.Option("--subscription", help="Only this subscription's.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="At most this many (0: every one).")
    ] = 500,
    as_json: JsonOption = False,
) -> None:
    """Deliveries by id: their state, tries, and the receiver's last answer."""
    if dead and state not in (None, DeliveryState.DEAD):
        fail("--dead and --state name different states")
    found = run(_listed(DeliveryState.DEAD if dead else state, subscription, limit))
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return
    if not found:
        typer.echo("no deliveries")
        return
    table = Table("id", "U-CAP", "kind", "state", "tries", "last try", "last answer")
    for delivery in found:
        answer = delivery.last_error or (str(delivery.last_status) if delivery.last_status else "")
        tried = delivery.last_attempt_at
        table.add_row(
            delivery.delivery_id,
            delivery.ucap_id,
            delivery.kind,
            delivery.state.value,
            str(delivery.tries),
            f"{tried:%Y-%m-%d %H:%M:%S}" if tried else "",
            answer if len(answer) <= 100 else f"{answer[:99]}…",
        )
    wide_console().print(table)


@dataclass
class RedeliverOutcome:
    redelivered: list[str] = field(default_factory=list)
    not_dead: list[str] = field(default_factory=list)


async def _redeliver(ids: list[str] | None, *, by: str) -> RedeliverOutcome:
    outcome = RedeliverOutcome()
    async with reporting_database() as database:
        if ids is None:
            dead = await deliveries.listed(database, state=DeliveryState.DEAD)
            ids = [delivery.delivery_id for delivery in dead]
        for delivery_id in ids:
            done = await deliveries.redeliver(database, delivery_id, by=by)
            (outcome.redelivered if done else outcome.not_dead).append(delivery_id)
    return outcome


@app.command("redeliver")
def redeliver_command(
    delivery_id: Annotated[
        str | None, typer.Argument(help="The delivery's id, as `list` shows it.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every dead delivery.")] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who redelivers, as recorded (default user@host).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make dead deliveries pending again: the worker posts them, with all their tries."""
    if (delivery_id is None) == (not every):
        fail("give one delivery's id or --all")
    outcome = run(_redeliver(None if every else [delivery_id or ""], by=by or operator_name()))
    if as_json:
        typer.echo(json.dumps(outcome.__dict__, indent=2))
    else:
        for name in outcome.redelivered:
            typer.echo(f"redelivering {name}: the worker posts it within its poll")
        typer.echo(f"{len(outcome.redelivered)} redelivered")
    if delivery_id is not None and outcome.not_dead:
        fail(f"{delivery_id} is not dead-lettered (no such delivery, pending, or delivered)")
