"""`ucap load FILE...`: U-CAP data files through the gateway, as one, idempotently, with a progress
bar and a summary of what was created, updated, skipped and refused (and why)."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ucap_ops.credentials import CredentialsError, read_credentials
from ucap_ops.datafile import DataFile, DataFileError, combined, read_data_file
from ucap_ops.gateway_access import DEFAULT_GATEWAY, GatewayOption, KeyOption, fail, require_key
from ucap_ops.loading.display import ProgressBar, show_summary
from ucap_ops.loading.gateway import KeyChoice, LoadError
from ucap_ops.loading.outcome import Summary
from ucap_ops.loading.runner import DEFAULT_WAIT_SECONDS, LoadPlan, count_items, load
from ucap_ops.loading.suffix import with_suffix


def read_plan_data(files: list[Path], suffix: str) -> DataFile:
    """The files as one, its ids suffixed; exits with a file's problem named."""
    try:
        return with_suffix(combined([read_data_file(file) for file in files]), suffix)
    except (DataFileError, ValueError) as error:
        fail(str(error))


def run_load(plan: LoadPlan, *, title: str, as_json: bool) -> Summary:
    """Load with a progress bar on stderr, then the summary on stdout (a table, or JSON)."""
    dated: list[bool] = []
    try:
        with ProgressBar(count_items(plan.data), Console(stderr=True)) as bar:
            summary = load(plan, bar, on_ready=dated.append)
    except LoadError as error:
        fail(str(error))
    if as_json:
        answer = {"gateway": plan.gateway_url, "dated": bool(dated and dated[0])}
        typer.echo(json.dumps({**answer, **summary.as_json()}, ensure_ascii=False))
    else:
        when = " (dated in the cooperation's timeline)" if dated and dated[0] else ""
        show_summary(summary, f"{title}{when}", Console())
    return summary


def load_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="U-CAP data files (format: see the README), loaded as one",
            show_default=False,
        ),
    ],
    gateway: GatewayOption = None,
    key: KeyOption = None,
    credentials: Annotated[
        Path | None,
        typer.Option(
            "--credentials",
            help="A credentials file (as make run writes): each city's data is sent with its "
            "own key, the rest with the admin key in it",
            show_default=False,
        ),
    ] = None,
    suffix: Annotated[
        str, typer.Option(help="Appended to every id the file defines (to load it twice)")
    ] = "",
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds an item may wait for a service to learn of a city or MoU of the file",
        ),
    ] = DEFAULT_WAIT_SECONDS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Load a U-CAP data file through the gateway: cities, MoUs, U-CAPs, pilots.

    Idempotent: what is there already is skipped.
    With an admin --key, every write is dated in the cooperation's timeline.
    Exits 1 when anything was refused.
    """
    data = read_plan_data(files, suffix)
    if credentials is not None:
        source = ctx.get_parameter_source("key")
        if source is not None and source.name == "COMMANDLINE":
            fail("give --key or --credentials, not both")
        try:
            stored = read_credentials(credentials)
        except CredentialsError as error:
            fail(str(error))
        keys = KeyChoice(credentials=stored)
        url = gateway or stored.gateway
    else:
        keys = KeyChoice(single=require_key(key))
        url = gateway or DEFAULT_GATEWAY
    plan = LoadPlan(data=data, gateway_url=url, keys=keys, wait_seconds=wait)
    named = ", ".join(map(str, files))
    summary = run_load(plan, title=f"{named} through {url}", as_json=as_json)
    if summary.refused:
        raise typer.Exit(1)
