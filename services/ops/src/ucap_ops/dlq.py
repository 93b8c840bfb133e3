"""`ucap dlq list|show|replay`: the records services could not apply, and their replay.

Each service's consumers put what they could not apply on
``<namespace>.<service>.dlq`` with where it came from and why. After the cause
is fixed, ``replay`` sends a record back to its topic, and the replay is
recorded, so ``--all`` does not send it again unless forced.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.json import JSON
from rich.progress import Progress
from rich.table import Table

from ucap_ops.backbone import CommandError, fail, run
from ucap_ops.dead_letters import (
    REPLAYS,
    DeadLetter,
    LetterId,
    ReplayLog,
    read_letter,
    read_letters,
    send_back,
)
from ucap_ops.targets import ServiceName, ServiceTarget, service_target
from ucap_ops.terminal import JsonOption, chosen_targets, operator_name, wide_console
from ucap_shared.mongo import connect_mongo

app = typer.Typer(
    help="Dead-lettered records: list them, show one, replay them after the cause is fixed.",
    no_args_is_help=True,
)

ServiceOption = Annotated[
    ServiceName | None, typer.Option("--service", "-s", help="Only this service's records.")
]


@asynccontextmanager
async def replay_log(target: ServiceTarget) -> AsyncIterator[ReplayLog]:
    mongo = connect_mongo(target.settings.mongodb_uri)
    try:
        yield ReplayLog(mongo[target.settings.database][REPLAYS])
    finally:
        await mongo.close()


async def _all_letters(targets: list[ServiceTarget]) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for target in targets:
        async with replay_log(target) as log:
            letters += await read_letters(target.settings.kafka_bootstrap_servers, target.name, log)
    return letters


async def _one_letter(letter_id: LetterId) -> DeadLetter:
    target = service_target(letter_id.service)
    async with replay_log(target) as log:
        return await read_letter(target.settings.kafka_bootstrap_servers, letter_id, log)


@app.command("list")
def list_command(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Every dead-lettered record: what it is, where it came from, why it failed."""
    letters = run(_all_letters(chosen_targets(service)))
    if as_json:
        typer.echo(json.dumps([letter.summary() for letter in letters], indent=2))
        return
    if not letters:
        typer.echo("no dead-lettered records")
        return
    table = Table("id", "type", "subject", "from", "error", "failed at", "replayed")
    for letter in letters:
        row = letter.summary()
        subject = f"{row['subject']}#{row['sequence']}" if row["sequence"] else row["subject"]
        error = f"{row['error_kind']}: {row['error'] or ''}"
        replay = letter.replay
        table.add_row(
            row["id"],
            row["type"],
            subject,
            f"{row['original_topic']} [{row['original_partition']}@{row['original_offset']}]",
            error if len(error) <= 80 else f"{error[:79]}…",
            row["failed_at"],
            f"{replay.replayed_at:%Y-%m-%d %H:%M} by {replay.replayed_by}" if replay else "no",
        )
    wide_console().print(table)


@app.command("show")
def show_command(
    letter_id: Annotated[str, typer.Argument(help="The record's id, as `list` shows it.")],
    as_json: JsonOption = False,
) -> None:
    """One dead-lettered record in full: its headers and the event."""
    letter = run(_one_letter_parsed(letter_id))
    whole = letter.whole()
    if as_json:
        typer.echo(json.dumps(whole, indent=2))
        return
    console = wide_console()
    for name in ("id", "type", "subject", "original_topic", "consumer_group", "failed_at"):
        console.print(f"[bold]{name}[/bold]: {whole[name]}", highlight=False)
    replay = letter.replay
    console.print(
        f"[bold]replayed[/bold]: {replay.replayed_at.isoformat()} by {replay.replayed_by}"
        if replay
        else "[bold]replayed[/bold]: no",
        highlight=False,
    )
    headers = Table("header", "value", title="headers")
    for name, value in letter.headers:
        headers.add_row(name, value)
    console.print(headers)
    event = whole["event"]
    console.print(JSON.from_data(event) if not isinstance(event, str) else event)


async def _one_letter_parsed(text: str) -> DeadLetter:
    return await _one_letter(LetterId.parse(text))


@dataclass
class ReplayOutcome:
    replayed: list[dict[str, Any]] = field(default_factory=list)
    replayed_before: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)


@asynccontextmanager
async def _producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def _replay_one(text: str, *, force: bool, by: str) -> ReplayOutcome:
    letter_id = LetterId.parse(text)
    target = service_target(letter_id.service)
    outcome = ReplayOutcome()
    async with (
        replay_log(target) as log,
        _producer(target.settings.kafka_bootstrap_servers) as producer,
    ):
        letter = await read_letter(target.settings.kafka_bootstrap_servers, letter_id, log)
        if letter.replay is not None and not force:
            raise CommandError(
                f"{letter_id} was replayed already ({_when(letter)}); --force sends it again"
            )
        await _replay_letters(producer, log, [letter], outcome, force=True, by=by)
    return outcome


async def _replay_all(targets: list[ServiceTarget], *, force: bool, by: str) -> ReplayOutcome:
    outcome = ReplayOutcome()
    async with _producer(targets[0].settings.kafka_bootstrap_servers) as producer:
        for target in targets:
            async with replay_log(target) as log:
                bootstrap = target.settings.kafka_bootstrap_servers
                letters = await read_letters(bootstrap, target.name, log)
                await _replay_letters(producer, log, letters, outcome, force=force, by=by)
    return outcome


def _when(letter: DeadLetter) -> str:
    replay = letter.replay
    return f"{replay.replayed_at.isoformat()} by {replay.replayed_by}" if replay else "never"


async def _replay_letters(
    producer: AIOKafkaProducer,
    log: ReplayLog,
    letters: list[DeadLetter],
    outcome: ReplayOutcome,
    *,
    force: bool,
    by: str,
) -> None:
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("replaying", total=len(letters))
        for letter in letters:
            progress.advance(task)
            if letter.replay is not None and not force:
                outcome.replayed_before.append(str(letter.id))
                continue
            try:
                topic, partition, offset = await send_back(producer, letter)
            except (KafkaError, CommandError) as error:
                outcome.failed.append({"id": str(letter.id), "error": str(error) or repr(error)})
                continue
            await log.record(letter, by, topic, partition, offset)
            outcome.replayed.append(
                {"id": str(letter.id), "topic": topic, "partition": partition, "offset": offset}
            )


@app.command("replay")
def replay_command(
    letter_id: Annotated[
        str | None, typer.Argument(help="The record's id, as `list` shows it.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every record not replayed yet (of --service, if given).")
    ] = False,
    service: ServiceOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replay records that were replayed already.")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who replays, as recorded (default user@host).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send dead-lettered records back to their topic, once their cause is fixed.

    The consumer that failed applies the event again; other consumer groups
    skip it as one they have applied. Each replay is recorded in the service's
    database (`dead_letter_replays`).
    """
    if (letter_id is None) == (not every):
        fail("give one record id or --all")
    if letter_id is not None and service is not None:
        fail("--service goes with --all; a record id names its service")
    who = by or operator_name()
    outcome = run(
        _replay_one(letter_id, force=force, by=who)
        if letter_id is not None
        else _replay_all(chosen_targets(service), force=force, by=who)
    )
    if as_json:
        typer.echo(json.dumps(outcome.__dict__, indent=2))
    else:
        for done in outcome.replayed:
            typer.echo(
                f"replayed {done['id']} to {done['topic']} "
                f"(partition {done['partition']}, offset {done['offset']})"
            )
        for failure in outcome.failed:
            typer.echo(f"failed {failure['id']}: {failure['error']}", err=True)
        typer.echo(
            f"{len(outcome.replayed)} replayed, {len(outcome.replayed_before)} replayed before "
            f"(skipped; --force sends them again), {len(outcome.failed)} failed"
        )
    if outcome.failed:
        fail(f"{len(outcome.failed)} record(s) could not be replayed")
