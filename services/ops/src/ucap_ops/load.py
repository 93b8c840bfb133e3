"""`ucap load`: to be written."""

import typer


def load_command() -> None:
    """(not yet written)"""
    raise typer.Exit(code=2)
