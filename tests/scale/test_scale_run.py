"""More than one of everything: two replicas of every service, three Kafka brokers.

``make scale-up``'s stack on ports and in a folder of its own (``ucap_scale.py``): four
partner cities' systems post progress updates through the load balancer, each with its
own idempotency key and retried with it until acknowledged; the lead city and each
partner sign the MoUs drafted between them, each with its own key; the lead city logs
activities on its U-CAP (all on one aggregate). Meanwhile kill -9 hits one replica of
each service and one broker, one at a time, then the other replica of every service and
another broker together; each is started again at once. It must hold that every
acknowledged update, signature and activity is in every view exactly once and in the
order acknowledged; that each relay's work moves to the surviving replica within the
lease time and no two relays publish at once: in every partition the relay lease
epochs the records carry never go backwards (an event published again by a successor,
its holder killed or its term ended before it marked the event published, is counted,
not failed: views dedupe by version); that both replicas of every consumer group are
members again after the restart; that live feeds go on through the surviving gateway;
that the status converges. Not part of ``make test`` (the ``scale`` marker); ``make
test-scale`` runs it.

    make test-scale        # -s prints the figures; also in .run/scale-figures.json
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.support.fault_run import (
    Figures,
    PilotViews,
    Writer,
    more_acknowledgements,
    read_views,
    set_up_programme,
    view_problems,
)
from tests.support.keys import auth, create_key
from tests.support.processes import REPO_ROOT
from tests.support.scale_run import (
    SERVICES,
    FaultFigure,
    FeedWatcher,
    ScaleWorld,
    fencing,
    group_members,
    order_problems,
    relay_term,
    scale_world,
    write_figures,
)
from tests.support.scale_writes import (
    Acked,
    ActivityWriter,
    ProgrammeViews,
    SignatureWriter,
    draft_mous,
    holds_acked,
    programme_problems,
    read_programme_views,
)
from ucap_shared.lease import CLOCK_MARGIN, Term
from ucap_shared.topics import events_topic

T = TypeVar("T")
pytestmark = [pytest.mark.scale, pytest.mark.timeout(1200)]

PARTNERS = ("haikou", "kunming", "liuzhou", "zhengzhou")
FAULTS = [
    *((f"{service} replica", [f"{service}-1"]) for service in (*SERVICES, "gateway")),
    ("a Kafka broker", ["kafka-1"]),
    ("all together", [*(f"{s}-2" for s in (*SERVICES, "gateway")), "kafka-2"]),
]
"""One replica of each service and a broker, one at a time; then the other replica of
every service and another broker at once."""
ACKS_BETWEEN_FAULTS = 12
PROGRESS_TIMEOUT = 90.0
WRITE_DEADLINE = 60.0
PACE = 0.25
MOUS_PER_PARTNER = 6
"""24 MoUs of the lead city's 40 at most (``bounds.MOUS_PER_CITY``): 48 signatures."""
SIGN_PACE = 20.0
"""Each pair's 12 signatures spread over the four or five minutes of writes under faults."""
ACTIVITY_PACE = 1.0
CONVERGE_TIMEOUT = 120.0
GROUP_TIMEOUT = 90.0
FIGURES_FILE = Path(os.environ.get("UCAP_SCALE_FIGURES", REPO_ROOT / ".run" / "scale-figures.json"))


async def poll(read: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float) -> T:
    """``read()`` until ``done`` holds of its answer or ``timeout`` passes; the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = await read()
        except Exception:  # a server restarting: read again
            if time.monotonic() > deadline:
                raise
        else:
            if done(answer) or time.monotonic() > deadline:
                return answer
        await asyncio.sleep(0.5)


def holds_all(views: dict[str, PilotViews], snapshot: dict[str, set[str]]) -> bool:
    """Every view holds every update in ``snapshot`` (those acknowledged by some moment)."""
    for pilot_id, expected in snapshot.items():
        found = views[pilot_id]
        if not expected <= set(found.own or ()) or not expected <= set(found.listed or ()):
            return False
        if not found.reporting_counts or min(found.reporting_counts) < len(expected):
            return False
    return True


Views = tuple[dict[str, PilotViews], ProgrammeViews]


class Run:
    def __init__(self, world: ScaleWorld, admin: httpx.AsyncClient, ucap_id: str) -> None:
        self.world = world
        self.admin = admin
        self.ucap_id = ucap_id
        self.writers: list[Writer] = []
        self.signers: list[SignatureWriter] = []
        self.logger: ActivityWriter | None = None
        self.mou_ids: list[str] = []
        self.watchers: list[FeedWatcher] = []
        self.problems: list[str] = []

    def acked(self) -> Acked:
        assert self.logger is not None
        return Acked.of(self.signers, self.logger)

    async def read_all(self, *, history: bool = False) -> Views:
        pilot_ids = [w.pilot_id for w in self.writers]
        return await asyncio.gather(
            read_views(self.admin, self.ucap_id, pilot_ids),
            read_programme_views(self.admin, self.ucap_id, self.mou_ids, history=history),
        )

    async def relay_terms(self, services: list[str]) -> dict[str, Term]:
        terms = {}
        for service in services:
            term = await relay_term(self.world.mongodb_uri, service)
            assert term is not None, f"{service}: no relay has ever taken the lease"
            terms[service] = term
        return terms

    async def relay_held_again(
        self, before: dict[str, Term], killed_at: float, figure: FaultFigure
    ) -> None:
        """Per service killed, the seconds until a live relay holds its lease again (a term
        renewed or taken after the kill), and whether the holder changed; a problem where
        that takes longer than the lease's term and the clock margin (plus a poll's slack)."""
        ttl = timedelta(seconds=self.world.relay_lease_seconds)
        killed_wall = datetime.now(UTC) - timedelta(seconds=time.monotonic() - killed_at)
        limit = (ttl + CLOCK_MARGIN).total_seconds() + 5.0
        for service, old in before.items():
            while True:
                term = await relay_term(self.world.mongodb_uri, service)
                now = time.monotonic()
                if term is not None and term.expires_at - ttl > killed_wall:
                    figure.relay_resumed_seconds[service] = now - killed_at
                    if term.holder != old.holder:
                        figure.relay_moved.append(service)
                    break
                if now > killed_at + limit:
                    self.problems.append(f"{service}: the relay lease not held {limit:g}s on")
                    break
                await asyncio.sleep(0.25)

    async def fault(self, target: str, killed: list[str]) -> FaultFigure:
        figure = FaultFigure(target, killed)
        services = [name.rsplit("-", 1)[0] for name in killed]
        relayed = [s for s in services if s in SERVICES]
        before = await self.relay_terms(relayed)
        killing = time.monotonic()
        await asyncio.to_thread(self.world.kill_all, killed)
        killed_at = time.monotonic()
        relays = asyncio.create_task(self.relay_held_again(before, killed_at, figure))
        await asyncio.to_thread(self.world.up, timeout=300.0)
        figure.down_seconds = time.monotonic() - killed_at
        snapshot = {w.pilot_id: {a.update_id for a in w.acknowledged} for w in self.writers}
        acked = self.acked()

        def holds(found: Views) -> bool:
            return holds_all(found[0], snapshot) and holds_acked(found[1], acked)

        views = await poll(self.read_all, holds, CONVERGE_TIMEOUT)
        converged_at = time.monotonic()
        if holds(views):
            figure.converge_seconds = converged_at - killed_at
        else:
            self.problems.append(f"{target}: the views lack writes {CONVERGE_TIMEOUT:g}s on")
        await relays
        everyone = [*self.writers, *self.signers, *([self.logger] if self.logger else [])]
        acks = [a for w in everyone for a in w.acknowledged]
        figure.measure(acks, killed_at, converged_at)
        await self.groups_whole(target)
        if "gateway" in services:
            self.feeds_went_on(target, killing, killed_at)
        print(figure.line(), flush=True)
        return figure

    async def groups_whole(self, target: str) -> None:
        for service in SERVICES:
            group = self.world.env.get(f"UCAP_{service.upper()}_CONSUMER_GROUP", service)
            members = await poll(
                lambda group=group: group_members(self.world.bootstrap, group),  # type: ignore[misc]
                lambda n: n == 2,
                GROUP_TIMEOUT,
            )
            if members != 2:
                self.problems.append(f"{target}: consumer group {group} has {members} members")

    def feeds_went_on(self, target: str, killing: float, killed_at: float) -> None:
        """Every feed has had a frame since the kill; those the kill cut (which may be
        before ``kill_all`` returns) were reopened through the other gateway."""
        for n, watcher in enumerate(self.watchers):
            if not watcher.frames_since(killed_at):
                self.problems.append(f"{target}: live feed {n} had no frame after the kill")
        cut = sum(w.cut_since(killing) for w in self.watchers)
        if not cut:
            # HAProxy spreads the feeds by open connections: the replica killed held some.
            self.problems.append(f"{target}: no live feed was on the gateway killed")
        print(f"  live feeds cut by the kill and reopened through the other gateway: {cut}")


async def scale_run(
    world: ScaleWorld, figures: Figures
) -> tuple[list[FaultFigure], list[str], list[str]]:
    """Per fault its figure; the problems found; the events published again."""
    env = {**world.env, **world.endpoints, "UCAP_GATEWAY_DATABASE": "scale_gateway"}
    admin_key = create_key(env, principal="ops:scale-run", roles=["admin"])["key"]
    timeout = httpx.Timeout(15.0)
    async with httpx.AsyncClient(
        base_url=world.url, headers=auth(admin_key), timeout=timeout
    ) as admin:
        started = time.monotonic()
        programme = await set_up_programme(admin, env, PARTNERS)
        lead = programme.lead_city_id
        lead_key = await asyncio.to_thread(
            create_key, env, principal=f"city:{lead}", roles=["publisher"]
        )
        mous = await draft_mous(admin, lead, list(programme.pilots), MOUS_PER_PARTNER)
        figures.setup_seconds = time.monotonic() - started
        run = Run(world, admin, programme.ucap_id)
        today = datetime.now(UTC).date().isoformat()
        run.writers = figures.writers = [
            Writer(city, pilot_id, auth(programme.publishers[city]), programme.run_id, today)
            for city, pilot_id in programme.pilots.items()
        ]
        keys = {lead: auth(lead_key["key"])}
        run.signers = [
            SignatureWriter(
                lead, city, mou_ids, keys | {city: auth(programme.publishers[city])}, today
            )
            for city, mou_ids in mous.items()
        ]
        run.mou_ids = [mou_id for mou_ids in mous.values() for mou_id in mou_ids]
        run.logger = ActivityWriter(lead, programme.ucap_id, keys[lead], programme.run_id, today)
        figures.other_writers = [*run.signers, run.logger]
        live = f"{world.url}/ucaps/{programme.ucap_id}/live"
        run.watchers = [FeedWatcher(live, auth(admin_key)) for _ in range(4)]
        limits = httpx.Limits(max_connections=len(figures.all_writers))
        results: list[FaultFigure] = []
        async with httpx.AsyncClient(base_url=world.url, timeout=timeout, limits=limits) as client:
            tasks = [
                asyncio.create_task(w.run(client, pace=PACE, write_deadline=WRITE_DEADLINE))
                for w in run.writers
            ]
            others = [
                asyncio.create_task(w.run(client, pace=pace, write_deadline=WRITE_DEADLINE))
                for w, pace in (
                    *((s, SIGN_PACE) for s in run.signers),
                    (run.logger, ACTIVITY_PACE),
                )
            ]
            feeds = [asyncio.create_task(w.run()) for w in run.watchers]
            writing = time.monotonic()
            try:
                for target, killed in FAULTS:
                    await more_acknowledgements(
                        run.writers, ACKS_BETWEEN_FAULTS, timeout=PROGRESS_TIMEOUT, tasks=tasks
                    )
                    results.append(await run.fault(target, killed))
                await more_acknowledgements(
                    run.writers, ACKS_BETWEEN_FAULTS, timeout=PROGRESS_TIMEOUT, tasks=tasks
                )
            finally:
                for writer in figures.all_writers:
                    writer.stop.set()
                await asyncio.gather(*tasks, *others, return_exceptions=True)
                for feed in feeds:
                    feed.cancel()
                await asyncio.gather(*feeds, return_exceptions=True)
            figures.write_seconds = time.monotonic() - writing
            for task in [*tasks, *others]:
                task.result()

        acked = {w.pilot_id: {a.update_id for a in w.acknowledged} for w in run.writers}
        unresolved = [key for w in figures.all_writers for key in w.unresolved]
        written = run.acked()

        def disagreements(found: Views) -> list[str]:
            pilots, programme_views = found
            return [
                *view_problems(pilots, acked, {p: set() for p in acked}),
                *programme_problems(programme_views, written),
            ]

        stopped = time.monotonic()
        views = await poll(
            lambda: run.read_all(history=True),
            lambda found: not disagreements(found),
            CONVERGE_TIMEOUT,
        )
        problems = disagreements(views)
        if not problems:
            figures.converge_seconds = time.monotonic() - stopped
        problems += order_problems(views[0], run.writers)
        namespace = env.get("UCAP_TOPIC_NAMESPACE", "ucap")
        topics = [events_topic(s, within=namespace) for s in SERVICES]
        fenced = await fencing(world.bootstrap, topics)
        problems += fenced.problems
        problems += [f"given up on (never acknowledged): {key}" for key in unresolved]
        return results, run.problems + problems, fenced.republished


def test_two_replicas_and_three_brokers_lose_no_acknowledged_update_under_kill_9() -> None:
    base = {**os.environ, "UCAP_LOG_LEVEL": "INFO"}
    started = time.monotonic()
    with scale_world(base) as world:
        figures = Figures(writers=[], infra_start_seconds=world.starts[0])
        print(f"\nscale run: three brokers, ten replicas, HAProxy up in {world.starts[0]:.1f}s")
        try:
            results, problems, republished = asyncio.run(scale_run(world, figures))
        except Exception as error:
            raise AssertionError(
                f"the scale run broke off: {error!r}\n{figures.report()}"
            ) from error
        report = figures.report()
        print(report)
        print(f"  published again (at least once, epochs in order): {len(republished)}")
        for line in republished:
            print(f"    {line}")
        summary = {
            "acknowledged": len(figures.acknowledged),
            "by_writer": {w.label: len(w.acknowledged) for w in figures.all_writers},
            "p99_ms": figures.percentile(99) * 1000,
            "converge_seconds": figures.converge_seconds,
            "infra_start_seconds": figures.infra_start_seconds,
            "write_seconds": figures.write_seconds,
            "total_seconds": time.monotonic() - started,
            "republished": republished,
        }
        write_figures(FIGURES_FILE, results, summary)
        print(f"figures written to {FIGURES_FILE}")

        assert figures.acknowledged, report
        assert problems == [], f"{report}\n" + "\n".join(problems)
