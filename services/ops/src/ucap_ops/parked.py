"""`ucap parked list|retry`: the commits a service's relay set aside, and trying them again.

A relay parks a commit when Kafka refuses its records themselves (too large, say)
after trying it on its own a few times; that aggregate's later commits wait behind
it. Each is recorded in the service's own database (``parked_commits``), where
these commands read it. Once the cause is fixed (a topic's limit raised, the event
shortened), ``retry`` makes the commit pending again and records who retried it;
the relay tries it within its poll (2 s), then the commits that waited behind it,
in order.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.table import Table

from ucap_ops.backbone import CommandError, fail, run
from ucap_ops.targets import SERVICES, ServiceName, ServiceTarget, service_target
from ucap_ops.terminal import JsonOption, chosen_targets, operator_name, wide_console
from ucap_shared.eventstore import EventStore
from ucap_shared.mongo import connect_mongo
from ucap_shared.parking import ParkedCommit

app = typer.Typer(
    help="Commits a relay parked because Kafka refuses them: list them, retry them once fixed.",
    no_args_is_help=True,
)

ServiceOption = Annotated[
    ServiceName | None, typer.Option("--service", "-s", help="Only this service's commits.")
]


@dataclass(frozen=True)
class ParkedId:
    """``<service>:<commit id>``, the commit id being ``<aggregate>@<sequence>``."""

    service: str
    commit_id: str

    def __str__(self) -> str:
        return f"{self.service}:{self.commit_id}"

    @classmethod
    def parse(cls, text: str) -> "ParkedId":
        service, _, commit_id = text.partition(":")
        aggregate_id, _, sequence = commit_id.rpartition("@")
        if service not in SERVICES or not aggregate_id or not sequence.isdigit():
            raise CommandError(
                f"{text!r} is not a parked commit's id (<service>:<aggregate>@<sequence>, "
                f"service one of {', '.join(SERVICES)})"
            )
        return cls(service, commit_id)


@dataclass(frozen=True)
class Parked:
    service: str
    commit: ParkedCommit

    @property
    def id(self) -> ParkedId:
        return ParkedId(self.service, self.commit.commit_id)

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "service": self.service, **self.commit.model_dump(mode="json")}


@asynccontextmanager
async def event_store(target: ServiceTarget) -> AsyncIterator[EventStore]:
    mongo = connect_mongo(target.settings.mongodb_uri)
    try:
        database = mongo[target.settings.database]
        yield EventStore(database, source=f"ucap/{target.settings.service_name}")
    finally:
        await mongo.close()


async def _all_parked(targets: list[ServiceTarget]) -> list[Parked]:
    found: list[Parked] = []
    for target in targets:
        async with event_store(target) as store:
            found += [Parked(target.name, commit) for commit in await store.parked()]
    return found


@app.command("list")
def list_command(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Every parked commit: which, since when, after how many tries, and Kafka's answer."""
    parked = run(_all_parked(chosen_targets(service)))
    if as_json:
        typer.echo(json.dumps([item.as_json() for item in parked], indent=2))
        return
    if not parked:
        typer.echo("no parked commits")
        return
    table = Table("id", "events", "parked at", "tries", "error")
    for item in parked:
        commit = item.commit
        error = commit.error if len(commit.error) <= 100 else f"{commit.error[:99]}…"
        table.add_row(
            str(item.id),
            f"{commit.aggregate_id} #{commit.sequence}–{commit.last_sequence}",
            f"{commit.parked_at:%Y-%m-%d %H:%M:%S}",
            str(commit.tries),
            error,
        )
    wide_console().print(table)


@dataclass
class RetryOutcome:
    retried: list[str] = field(default_factory=list)
    not_parked: list[str] = field(default_factory=list)


async def _retry_one(text: str, *, by: str) -> RetryOutcome:
    parked_id = ParkedId.parse(text)
    async with event_store(service_target(parked_id.service)) as store:
        if not await store.retry_parked(parked_id.commit_id, by=by):
            raise CommandError(f"{parked_id} is not parked (no such commit, or published)")
    return RetryOutcome(retried=[str(parked_id)])


async def _retry_all(targets: list[ServiceTarget], *, by: str) -> RetryOutcome:
    outcome = RetryOutcome()
    for target in targets:
        async with event_store(target) as store:
            for commit in await store.parked():
                done = await store.retry_parked(commit.commit_id, by=by)
                name = str(ParkedId(target.name, commit.commit_id))
                (outcome.retried if done else outcome.not_parked).append(name)
    return outcome


@app.command("retry")
def retry_command(
    parked_id: Annotated[
        str | None, typer.Argument(help="The commit's id, as `list` shows it.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every parked commit (of --service, if given).")
    ] = False,
    service: ServiceOption = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who retries, as recorded (default user@host).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Clear parked marks once the cause is fixed: the relay tries those commits again.

    Each retry is recorded in the service's `parked_commits` (`state: retried`,
    `retried_at`, `retried_by`). A commit Kafka still refuses is parked again after
    its tries.
    """
    if (parked_id is None) == (not every):
        fail("give one parked commit's id or --all")
    if parked_id is not None and service is not None:
        fail("--service goes with --all; a commit's id names its service")
    who = by or operator_name()
    outcome = run(
        _retry_one(parked_id, by=who)
        if parked_id is not None
        else _retry_all(chosen_targets(service), by=who)
    )
    if as_json:
        typer.echo(json.dumps(outcome.__dict__, indent=2))
        return
    for name in outcome.retried:
        typer.echo(f"retried {name}: its relay tries it again within its poll")
    typer.echo(f"{len(outcome.retried)} retried")
