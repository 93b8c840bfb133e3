"""Running a command's work against Kafka and MongoDB, failing in one line.

An operator gets ``error: <what went wrong>`` on stderr and a non-zero exit for
what can be expected (a server down, a refused rebuild, an unknown record),
never a traceback.
"""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from aiokafka.errors import KafkaError
from pymongo.errors import PyMongoError

T = TypeVar("T")


class CommandError(Exception):
    """A failure to report to the operator as it is."""


def fail(message: str, *, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a known failure becomes a one-line error and exit code 1."""
    # The clients' own logs would repeat the failure reported here, over several lines.
    for client in ("aiokafka", "pymongo"):
        logging.getLogger(client).setLevel(logging.CRITICAL)
    try:
        return asyncio.run(work)
    except CommandError as error:
        fail(str(error))
    except KafkaError as error:
        detail = str(error)
        name = type(error).__name__
        fail(f"Kafka: {detail if detail.startswith(name) else f'{name}: {detail}'}")
    except PyMongoError as error:
        summary = str(error).split(", Topology Description", 1)[0]
        fail(f"MongoDB: {type(error).__name__}: {summary[:300]}")
    except OSError as error:
        fail(f"{type(error).__name__}: {error}")
