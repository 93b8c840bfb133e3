"""Benchmark one progress update's cost in the pilots service as the pilot's own history grows.

    python deploy/bench/bench_pilot_history.py [--json] [--histories 0,100,500,1000,1900]

``bench_scale.py`` grows the store around new pilots; this grows the pilot itself. One
pilot is built up event by event through the service's own projection
(``ucap_pilots.views.own_handlers``) into a scratch database on the running
MongoDB-protocol server (``MONGODB_URI``). When it holds each of ``--histories``
updates, ``--updates`` more are timed one at a time:

- **command**: what the service does in its own process before it appends: the replay
  check, the decision, the new state and the capacity checks;
- **view write**: the projection of the event into ``pilots_view``, as the service
  writes it (its revision claim and the document's replace by ``_id``, and the sealing
  of a run of updates once one is full).

In the same run, next to them: the same figures at the first history (the ceiling;
every ratio is to it), raw ``insert_one`` of a 400-byte document (p50), and a view
write of the pilot as one document holding every update (how ``pilots_view`` stored a
pilot before its updates were sealed in runs), for a second pilot grown alongside.
Progress goes to stderr; ``--json`` prints the figures as JSON on stdout.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ucap_pilots import capacity, domain, views
from ucap_pilots.domain import Pilot, evolve
from ucap_pilots.events import PilotEvent, PilotProposed, Role
from ucap_pilots.events.values import PartnerCity, ProgressUpdate
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import dispatch
from ucap_shared.envelope import Envelope
from ucap_shared.views import apply_event

Document = dict[str, Any]
Database = AsyncDatabase[Document]
WORDS = (
    *("webinar", "workshop", "site", "visit", "mobility", "plan", "stakeholders", "district"),
    *("heating", "pilot", "residents", "survey", "cycling", "lanes", "green", "roofs", "data"),
    *("platform", "procurement", "tender", "municipal", "council", "approved", "budget"),
    *("partners", "exchanged", "lessons", "energy", "retrofit"),
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def p50_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def an_update(number: int, words: random.Random) -> ProgressUpdate:
    """An update with a summary of varied words (compressing as real text about does)."""
    summary = " ".join(words.choice(WORDS) for _ in range(words.randint(20, 60)))
    return ProgressUpdate(
        update_id=domain.update_id_for(f"history-{number}"),
        reported_on=PartialDate(2020 + number // 365 % 6, 1 + number % 12, 1 + number % 28),
        reporting_city_id="granada",
        summary=summary.capitalize() + ".",
        indicator_values=(),
        milestone_id=None,
        attachments=(),
    )


def proposal(pilot_id: str) -> PilotProposed:
    return PilotProposed(
        pilot_id=pilot_id,
        title="Energy retrofit of public housing",
        description="A pilot of the Granada U-CAP.",
        lead_city_id="granada",
        partners=(
            PartnerCity(city_id="granada", role=Role.LEAD),
            PartnerCity(city_id="haikou", role=Role.PARTNER),
        ),
        stakeholder_ids=(),
        cluster=None,
        themes=("energy",),
        sdg_goals=(7, 11),
        sdg_targets=(),
        urban_agenda_themes=(),
        mou_ids=(),
        ucap_id=None,
    )


def envelope_of(event: PilotEvent, sequence: int) -> Envelope:
    return Envelope(
        source="ucap/pilots",
        type=event.event_type,
        subject=event.pilot_id,
        sequence=sequence,
        data=event.model_dump(mode="json"),
        actor="city:granada",
    )


Project = Callable[[Envelope, PilotEvent], Awaitable[object]]
"""A projection of one event, given as published and as the model it holds."""


class GrowingPilot:
    """A pilot whose events go through ``project`` one at a time, its state kept alongside."""

    def __init__(self, pilot_id: str, project: Project) -> None:
        self.pilot_id = pilot_id
        self._project = project
        self._words = random.Random(pilot_id)  # noqa: S311 - reproducible text, not a secret
        self.state: Pilot | None = None
        self.sequence = 0

    async def apply(self, event: PilotEvent) -> float:
        """Seconds the projection took."""
        self.sequence += 1
        envelope = envelope_of(event, self.sequence)
        started = time.perf_counter()
        await self._project(envelope, event)
        seconds = time.perf_counter() - started
        self.state = evolve(self.state, event, envelope.time)
        return seconds

    async def propose(self) -> None:
        await self.apply(proposal(self.pilot_id))

    async def report(self) -> tuple[float, float]:
        """One progress update: seconds of the command's own work, and of the view write."""
        assert self.state is not None
        update = an_update(len(self.state.updates), self._words)
        started = time.perf_counter()
        if self.state.update(update.update_id) is not None:
            raise RuntimeError("an update id repeated")
        events = domain.report_progress(self.state, update)
        after = self.state
        for event in events:
            after = evolve(after, event, datetime.now(UTC))
        capacity.check_growth(self.state, after)
        command = time.perf_counter() - started
        view = 0.0
        for event in events:
            view += await self.apply(event)
        return command, view


def whole_pilot_projection(database: Database) -> Project:
    """The pilot's events projected into one document holding every update."""
    collection = database["whole_pilots_view"]

    async def project(envelope: Envelope, event: PilotEvent) -> object:
        def build(current: Document | None) -> Document:
            state = views.own_part(current) if current else None
            return views.pilot_document(evolve(state, event, envelope.time))

        return await apply_event(
            collection,
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=build,
            contiguous=True,
        )

    return project


@dataclass
class History:
    updates_held: int
    command_p50_ms: float
    view_write_p50_ms: float
    view_write_p99_ms: float
    whole_view_write_p50_ms: float
    ratio_to_first: float = 0.0
    whole_ratio_to_first: float = 0.0


async def raw_insert_p50(collection: AsyncCollection[Document], count: int) -> float:
    samples = []
    for number in range(count):
        document = {"_id": f"raw-{number}", "payload": "x" * 400}
        started = time.perf_counter()
        await collection.insert_one(document)
        samples.append(time.perf_counter() - started)
    return p50_ms(samples)


async def measure(args: argparse.Namespace) -> Document:
    client: AsyncMongoClient[Document] = AsyncMongoClient(args.mongodb)
    database = client[f"bench_history_{uuid.uuid4().hex[:8]}"]
    try:
        await views.create_indexes(database)
        raw = await raw_insert_p50(database["raw"], args.raw_inserts)
        say(f"raw insert_one p50 {raw:.2f} ms")
        handlers = views.own_handlers(database)

        async def through_the_service(envelope: Envelope, _: PilotEvent) -> object:
            return await dispatch(handlers, envelope, group="bench")

        sealed = GrowingPilot("granada-history", through_the_service)
        whole = GrowingPilot("granada-history-whole", whole_pilot_projection(database))
        for pilot in (sealed, whole):
            await pilot.propose()
        results: list[History] = []
        for history in args.histories:
            say(f"growing the pilots to {history} updates …")
            for pilot in (sealed, whole):
                while pilot.state is not None and len(pilot.state.updates) < history:
                    await pilot.report()
            say(f"  {args.updates} updates at {history}, one at a time …")
            commands, writes, whole_writes = [], [], []
            for _ in range(args.updates):
                command, view = await sealed.report()
                commands.append(command)
                writes.append(view)
                whole_writes.append((await whole.report())[1])
            result = History(
                history,
                p50_ms(commands),
                p50_ms(writes),
                round(statistics.quantiles(writes, n=100)[98] * 1000, 3),
                p50_ms(whole_writes),
            )
            results.append(result)
            say(
                f"  command {result.command_p50_ms:.2f} ms, view write "
                f"{result.view_write_p50_ms:.2f} ms; one document: "
                f"{result.whole_view_write_p50_ms:.2f} ms"
            )
        first = results[0]
        for result in results:
            total = result.command_p50_ms + result.view_write_p50_ms
            result.ratio_to_first = round(
                total / (first.command_p50_ms + first.view_write_p50_ms), 2
            )
            result.whole_ratio_to_first = round(
                result.whole_view_write_p50_ms / first.whole_view_write_p50_ms, 2
            )
        return {"raw_insert_p50_ms": raw, "histories": [asdict(r) for r in results]}
    finally:
        await client.drop_database(database.name)
        await client.close()


def print_text(report: Document) -> None:
    print(f"raw insert_one p50: {report['raw_insert_p50_ms']:.2f} ms (the server's ceiling)")
    print(
        f"{'updates held':>12} | {'command':>8} | {'view write':>10} | {'p99':>8} | "
        f"{'ratio':>5} || {'one document':>12} | {'ratio':>5}"
    )
    for row in report["histories"]:
        print(
            f"{row['updates_held']:>12} | {row['command_p50_ms']:>5.2f} ms | "
            f"{row['view_write_p50_ms']:>7.2f} ms | {row['view_write_p99_ms']:>5.2f} ms | "
            f"{row['ratio_to_first']:>4.2f}x || {row['whole_view_write_p50_ms']:>9.2f} ms | "
            f"{row['whole_ratio_to_first']:>4.2f}x"
        )
    print(
        "p50 per update unless named; ratio: command + view write to the same at the first "
        "history (one document: its view write to its own at the first history)"
    )


def histories(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError("comma-separated counts, 0 or more")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--histories",
        type=histories,
        default=[0, 100, 500, 1000, 1800],
        help="updates the pilot holds already, comma-separated; the first is the ceiling",
    )
    parser.add_argument("--updates", type=int, default=100, help="updates timed at each")
    parser.add_argument("--raw-inserts", type=int, default=300, help="raw inserts timed")
    parser.add_argument(
        "--mongodb", default=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
    )
    args = parser.parse_args()
    if args.updates < 2 or max(args.histories) + args.updates > capacity.MAX_UPDATES:
        parser.error(f"--updates >= 2, and no history + --updates over {capacity.MAX_UPDATES}")
    report = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
