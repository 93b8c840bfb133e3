"""Acknowledged progress updates never vanish from any view after crashes.

A fault run of the whole system, on infrastructure of its own: four partner cities'
systems post progress updates through the gateway, each with its own idempotency key
and retried with that key until acknowledged, while kill -9 hits, one at a time, the
reporting service, the pilots service, Kafka and the MongoDB-protocol server
(FerretDB, and the PostgreSQL under it where there is one), each started again at
once. Then the writers stop and every view must converge: every acknowledged update
exactly once in the pilot, in the pilots list and in reporting's count.

    .venv/bin/pytest tests/e2e/test_fault_run.py -s    # -s prints the figures
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.fault_run import (
    Fault,
    FaultStack,
    Figures,
    PilotViews,
    Writer,
    fault_stack,
    more_acknowledgements,
    read_views,
    set_up_programme,
    view_problems,
)
from tests.support.keys import auth
from ucap_pilots.domain import update_id_for

pytestmark = pytest.mark.timeout(480)

PARTNERS = ("haikou", "kunming", "liuzhou", "zhengzhou")
ACKS_BETWEEN_FAULTS = 20
"""Acknowledged updates (all writers together) before the first fault and after each."""
PROGRESS_TIMEOUT = 90.0
"""How long the writers may go without those acknowledgements after a restart."""
WRITE_DEADLINE = 60.0
"""How long one update is retried before it is given up (and reported as unresolved)."""
PACE = 0.2
"""Seconds each writer waits between two updates."""
CONVERGE_TIMEOUT = 180.0


async def fault(
    figures: Figures, target: str, kill: Callable[[], int], restart: Callable[[], None]
) -> None:
    """SIGKILL ``target``, then start it again at once (both off the event loop, which
    keeps the writers going)."""
    record = Fault(target)
    figures.faults.append(record)
    record.pid = await asyncio.to_thread(kill)
    killed = time.monotonic()
    await asyncio.to_thread(restart)
    record.down_seconds = time.monotonic() - killed
    print(f"  kill -9 {target} (pid {record.pid}): back after {record.down_seconds:.1f}s")


def faults(stack: FaultStack) -> list[tuple[str, Callable[[], int], Callable[[], None]]]:
    def service(name: str) -> tuple[str, Callable[[], int], Callable[[], None]]:
        process = stack.services[name]

        def kill() -> int:
            assert process.process is not None
            pid = process.process.pid
            process.kill()
            return pid

        return name, kill, process.start

    def server(name: str) -> tuple[str, Callable[[], int], Callable[[], None]]:
        def restart() -> None:
            stack.infra.up()  # idempotent: starts what does not answer

        return name, lambda: stack.infra.kill(name), restart

    return [
        service("reporting"),
        service("pilots"),
        server("kafka"),
        server("ferretdb"),
        server("postgres"),
    ]


async def fault_run(stack: FaultStack, figures: Figures) -> list[str]:
    """The run; the views' remaining disagreements (none once converged)."""
    started = time.monotonic()
    timeout = httpx.Timeout(15.0)
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.admin, timeout=timeout) as admin:
        programme = await set_up_programme(admin, stack.env, PARTNERS)
        run_id, ucap_id, pilots = programme.run_id, programme.ucap_id, programme.pilots
        partners = list(pilots)
        publishers = [programme.publishers[city] for city in partners]
        figures.setup_seconds = time.monotonic() - started

        today = datetime.now(UTC).date().isoformat()
        figures.writers = [
            Writer(city, pilots[city], auth(key), run_id, today)
            for city, key in zip(partners, publishers, strict=True)
        ]
        limits = httpx.Limits(max_connections=len(partners))
        async with httpx.AsyncClient(base_url=stack.url, timeout=timeout, limits=limits) as client:
            tasks = [
                asyncio.create_task(w.run(client, pace=PACE, write_deadline=WRITE_DEADLINE))
                for w in figures.writers
            ]
            writing = time.monotonic()
            try:

                async def progress() -> None:
                    await more_acknowledgements(
                        figures.writers, ACKS_BETWEEN_FAULTS, timeout=PROGRESS_TIMEOUT, tasks=tasks
                    )

                await progress()
                for target, kill, restart in faults(stack):
                    if target == "postgres" and stack.infra.pid("postgres") is None:
                        figures.faults.append(Fault(target, skipped="no PostgreSQL in this run"))
                        continue
                    await fault(figures, target, kill, restart)
                    await progress()
            finally:
                for writer in figures.writers:
                    writer.stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
            figures.write_seconds = time.monotonic() - writing
            for task in tasks:
                task.result()

        acked = {w.pilot_id: {a.update_id for a in w.acknowledged} for w in figures.writers}
        maybe = {w.pilot_id: {update_id_for(k) for k in w.unresolved} for w in figures.writers}
        wrong_ids = [
            f"{a.key}: acknowledged as {a.update_id}, its key gives {update_id_for(a.key)}"
            for w in figures.writers
            for a in w.acknowledged
            if a.update_id != update_id_for(a.key)
        ]
        stopped = time.monotonic()
        problems = await _converged(
            lambda: read_views(admin, ucap_id, list(pilots.values())), acked, maybe
        )
        if not problems:
            figures.converge_seconds = time.monotonic() - stopped
        return wrong_ids + problems


async def _converged(
    read: Callable[[], Awaitable[dict[str, PilotViews]]],
    acked: dict[str, set[str]],
    maybe: dict[str, set[str]],
) -> list[str]:
    """Poll the views until they agree with ``acked`` or the deadline passes; what they
    still disagree on (nothing once they agree)."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    while True:
        problems = view_problems(await read(), acked, maybe)
        if not problems or time.monotonic() > deadline:
            return problems
        await asyncio.sleep(1.0)


def test_every_acknowledged_update_is_in_every_view_exactly_once_after_kill_9_of_each_part(
    tmp_path: Path,
) -> None:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    base = {**os.environ, "UCAP_LOG_LEVEL": "INFO"}
    started = time.monotonic()
    with fault_stack(base, log_dir) as stack:
        figures = Figures(writers=[], infra_start_seconds=stack.infra.starts[0])
        print(f"\nfault run: infrastructure and services up in {time.monotonic() - started:.1f}s")
        try:
            problems = asyncio.run(fault_run(stack, figures))
        except Exception as error:
            raise AssertionError(
                f"the fault run broke off: {error!r}\n{figures.report()}\n{stack.diagnostics()}"
            ) from error
        report = figures.report()
        print(report)

        assert figures.acknowledged, report
        assert problems == [], (
            f"{report}\nthe views still disagree {CONVERGE_TIMEOUT:g}s after the writers "
            "stopped:\n" + "\n".join(problems) + f"\n{stack.diagnostics()}"
        )


def test_the_view_check_names_missing_repeated_unknown_and_miscounted_updates() -> None:
    acked = {"p": {"upd-a", "upd-b", "upd-c"}}
    views = {
        "p": PilotViews(
            "p",
            own=["upd-a", "upd-a", "upd-b", "upd-x"],
            listed=None,
            reporting_counts=[4],
            reporting_last=["upd-b"],
        )
    }

    problems = view_problems(views, acked, {"p": {"upd-x"}})

    assert problems == [
        "p: the pilots view (GET /pilots/{id}) lacks 1 acknowledged updates: upd-c",
        "p: the pilots view (GET /pilots/{id}) holds more than once: upd-a",
        "p: the pilots list (GET /pilots?ucap=, in the status details) did not answer",
    ]
    not_sent = view_problems(views, acked, {"p": set()})
    assert "p: the pilots view (GET /pilots/{id}) holds updates nobody sent: upd-x" in not_sent
    assert "p: the reporting view counts [4] updates, expected 3" in not_sent
    views["p"].reporting_counts = [4, 2]
    views["p"].reporting_last = ["upd-b", "upd-z"]
    assert view_problems(views, acked, {"p": {"upd-x"}})[-2:] == [
        "p: the reporting view counts [4, 2] updates, expected 4",
        "p: the reporting view's last update is ['upd-z']",
    ]
