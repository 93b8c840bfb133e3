"""The ``ucap`` command: one entry point for the operators' daily tools."""

import typer

from ucap_ops import dlq, keys, lag, load, parked, rebuild, status, webhooks

app = typer.Typer(
    name="ucap",
    help=(
        "Operate ucap: credentials, data files, U-CAP status, rebuilds, dead letters, "
        "parked commits, lag, webhook deliveries."
    ),
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(keys.app, name="keys")
app.add_typer(dlq.app, name="dlq")
app.add_typer(parked.app, name="parked")
app.add_typer(webhooks.app, name="webhooks")
app.command("load")(load.load_command)
app.command("status")(status.status_command)
app.command("rebuild")(rebuild.rebuild_command)
app.command("lag")(lag.lag_command)


def main() -> None:
    app()
