"""`ucap rebuild`: to be written."""

import typer


def rebuild_command() -> None:
    """(not yet written)"""
    raise typer.Exit(code=2)
