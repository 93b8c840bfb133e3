"""`ucap rebuild SERVICE`: drop a service's views and rebuild them from the events.

The same rebuild as ``python -m ucap_<service> rebuild`` (the service's own
event store, then every topic it reads from the beginning, then the consumer
group's offsets set to where the replay ended), with a progress bar and a
summary. The service must be stopped: the rebuild refuses while its consumer
group has members.
"""

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from ucap_ops.backbone import CommandError, fail, run
from ucap_ops.targets import ServiceName, ServiceTarget, service_target

if TYPE_CHECKING:
    from ucap_shared.app import ServiceDefinition
    from ucap_shared.rebuild import RebuildProgress, RebuildReport


class _ProgressBars:
    """One bar per source replayed, on stderr, so stdout keeps only the summary."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, step: "RebuildProgress") -> None:
        task = self._tasks.get(step.source)
        if task is None:
            task = self._progress.add_task(step.source, total=step.total)
            self._tasks[step.source] = task
        self._progress.update(task, completed=step.done)


async def _rebuild(
    target: ServiceTarget, definition: "ServiceDefinition", console: Console
) -> "RebuildReport":
    # The rebuild runs the service's own handlers: importing them is for this command only.
    from ucap_shared.rebuild import GroupStillActiveError, rebuild

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        try:
            return await rebuild(
                target.settings,
                definition,
                out=lambda line: progress.console.print(line, highlight=False),
                progress=_ProgressBars(progress),
            )
        except GroupStillActiveError as error:
            raise CommandError(str(error)) from error


def _as_json(
    target: ServiceTarget, definition: "ServiceDefinition", report: "RebuildReport"
) -> dict[str, Any]:
    return {
        "service": target.name,
        "database": target.settings.database,
        "consumer_group": target.settings.group,
        "views": list(definition.views),
        "replayed": report.replayed,
        "applied": report.applied,
        "skipped": report.skipped,
        "seconds": round(report.seconds, 3),
        "ok": report.ok,
    }


def rebuild_command(
    service: Annotated[ServiceName, typer.Argument(help="The service whose views to rebuild.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (progress stays on stderr).")
    ] = False,
) -> None:
    """Drop SERVICE's views and rebuild them from the events; stop the service first.

    Exits non-zero when the service is still running (its consumer group has
    members) or when an event could not be applied.
    """
    try:
        target = service_target(service.value)
        definition = target.definition()
    except CommandError as error:
        fail(str(error))
    report = run(_rebuild(target, definition, Console(stderr=True)))
    if as_json:
        typer.echo(json.dumps(_as_json(target, definition, report), indent=2))
    else:
        views = ", ".join(definition.views) or "(none)"
        typer.echo(
            f"{target.name}: views {views} rebuilt in {report.seconds:.1f}s: "
            f"{report.replayed} events replayed, {report.applied} applied, "
            f"{len(report.skipped)} skipped"
        )
    if not report.ok:
        fail(f"{len(report.skipped)} event(s) could not be applied; see the skipped list")
