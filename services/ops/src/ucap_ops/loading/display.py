"""A load on the terminal: a progress bar while it runs, then a table of outcomes and the
reasons for every refusal."""

from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ucap_ops.loading.outcome import ItemResult, Outcome, Summary


class ProgressBar:
    """The :class:`~ucap_ops.loading.progress.Progress` of a load, drawn with rich from its
    first item on (a load that cannot start shows no bar)."""

    def __init__(self, total: int, console: Console) -> None:
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", style="cyan"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID = self._bar.add_task("loading", total=total)
        self._started = False

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._started:
            self._bar.update(self._task, description="done" if error is None else "stopped")
            self._bar.stop()

    def working_on(self, text: str) -> None:
        if not self._started:
            self._bar.start()
            self._started = True
        self._bar.update(self._task, description=escape(text[:60]))

    def finished(self, result: ItemResult) -> None:
        self._bar.advance(self._task)

    def note(self, text: str) -> None:
        self._bar.console.print(escape(text), highlight=False)


def summary_table(summary: Summary) -> Table:
    table = Table()
    table.add_column("item")
    for outcome in Outcome:
        table.add_column(outcome.value, justify="right")
    for kind, counts in summary.by_kind().items():
        table.add_row(kind, *(_count(counts[o.value], o) for o in Outcome))
    table.add_section()
    table.add_row("total", *(_count(summary.total(o), o) for o in Outcome), style="bold")
    return table


def _count(value: int, outcome: Outcome) -> str:
    if value and outcome is Outcome.REFUSED:
        return f"[red]{value}[/red]"
    return str(value)


def show_summary(summary: Summary, title: str, console: Console) -> None:
    console.print(title, highlight=False, markup=False)
    console.print(summary_table(summary))
    for item in summary.refused:
        answer = f"{item.status} " if item.status is not None else ""
        console.print(
            f"[red]refused[/red] {escape(item.kind)} {escape(item.id)}: "
            f"{answer}{escape(item.detail)}",
            highlight=False,
        )
