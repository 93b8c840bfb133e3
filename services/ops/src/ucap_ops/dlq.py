"""`ucap dlq`: to be written."""

import typer

app = typer.Typer(help="(not yet written)", no_args_is_help=True)
