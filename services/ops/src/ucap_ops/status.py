"""`ucap status`: to be written."""

import typer


def status_command() -> None:
    """(not yet written)"""
    raise typer.Exit(code=2)
