"""Every ``ucap`` command explains itself with ``--help``, and a wrong call exits non-zero."""

import pytest
import typer
from typer.testing import CliRunner

from ucap_ops.cli import app

runner = CliRunner()


def command_paths(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command of ``group``, as the words that call it."""
    paths = [(*prefix, info.name or "") for info in group.registered_commands]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        assert sub.name is not None
        paths += command_paths(sub.typer_instance, (*prefix, sub.name))
    return paths


COMMANDS = command_paths(app)


def test_the_command_list_is_whole() -> None:
    assert set(COMMANDS) == {
        ("load",),
        ("status",),
        ("rebuild",),
        ("lag",),
        ("keys", "create"),
        ("keys", "list"),
        ("keys", "revoke"),
        ("dlq", "list"),
        ("dlq", "show"),
        ("dlq", "replay"),
        ("parked", "list"),
        ("parked", "retry"),
        ("webhooks", "list"),
        ("webhooks", "redeliver"),
    }


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_has_help(words: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*words, "--help"])

    assert result.exit_code == 0, result.output
    assert "Usage: ucap " + " ".join(words) in " ".join(result.output.split())


def test_an_unknown_command_exits_non_zero() -> None:
    result = runner.invoke(app, ["no-such-command"])

    assert result.exit_code != 0
