"""`ucap lag`: to be written."""

import typer


def lag_command() -> None:
    """(not yet written)"""
    raise typer.Exit(code=2)
