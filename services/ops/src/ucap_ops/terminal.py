"""What the record commands (`dlq`, `parked`) share: their output, targets and operator."""

import getpass
import socket
from typing import Annotated

import typer
from rich.console import Console

from ucap_ops.backbone import CommandError, fail
from ucap_ops.targets import ServiceName, ServiceTarget, service_targets

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def wide_console() -> Console:
    """The terminal's width; wide when piped, so a row stays on one line for grep."""
    console = Console()
    if not console.is_terminal:
        console.width = 240
    return console


def chosen_targets(service: ServiceName | None) -> list[ServiceTarget]:
    """The one service asked for, or every one; a bad setting fails in one line."""
    try:
        return service_targets(service.value if service else None)
    except CommandError as error:
        fail(str(error))


def operator_name() -> str:
    """Who runs the command, as a replay or retry records it: ``user@host``."""
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
