"""Every query ucap's hot paths send is one an index serves, on FerretDB over PostgreSQL.

The hot paths run for real (an append, a command's load, a view write, the relay's
work, the lease, a consumer's stream position, a key's authentication, reporting's
projection of a U-CAP and of a MoU, the webhooks' look-up, outbox and worker) on a
client that records each filter it sends. Each collection is then filled well past
what a table scan would beat and analysed, and PostgreSQL's plan of every recorded
filter must be an index scan. A new query shape on those paths is checked without
being listed here: a ``$in``, ``$or``, range or sort would show up as a scan.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from tests.services.reporting.conftest import Streams
from tests.services.reporting.test_projections import ucap_created
from tests.support.explain import analyze as analyze_table
from tests.support.explain import ferretdb_on_postgresql, plan_uses_index
from tests.support.infra import Infra
from ucap_gateway.keys import KeyStore
from ucap_reporting import views as reporting_views
from ucap_reporting.projections import all_handlers
from ucap_reporting.store import MongoViews
from ucap_reporting.webhooks import deliveries, subscriptions
from ucap_reporting.webhooks.announcing import announce
from ucap_reporting.webhooks.subscriptions import ChangeKind
from ucap_shared.aggregates import Aggregates
from ucap_shared.auth import Principal, Role
from ucap_shared.dispatch import dispatch
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.eventstore import EventStore
from ucap_shared.lease import Lease
from ucap_shared.positions import StreamPositions
from ucap_shared.views import REVISIONS, STALE_CLAIM, Document, apply_event

FILLER = 3000
QUERIES = ("find", "count", "update", "delete", "aggregate")


class Counted(EventData):
    event_type = "ucap.tally.counted.v1"
    tally_id: str


def _count(state: int | None, envelope: Envelope) -> int:
    return (state or 0) + 1


def _shape(value: object) -> object:
    """A filter with its values left out: fields and operators, so ``$in`` differs from ``=``."""
    if isinstance(value, dict):
        return sorted((key, _shape(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


@dataclass
class FilterRecorder(monitoring.CommandListener):
    """The (collection, filter) of every query sent to one database."""

    database: str
    shapes: dict[tuple[str, str], Document] = field(default_factory=dict)
    aggregations: list[str] = field(default_factory=list)
    """Aggregations, whose filters FerretDB does not push down: none belong on a hot path."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name != self.database or event.command_name not in QUERIES:
            return
        command = event.command
        collection = str(command[event.command_name])
        if event.command_name == "aggregate":
            self.aggregations.append(f"{collection}: {command['pipeline']}")
            return
        if event.command_name == "find":
            filters = [command.get("filter", {})]
        elif event.command_name == "count":
            filters = [command.get("query", {})]
        else:
            plural = "updates" if event.command_name == "update" else "deletes"
            filters = [statement["q"] for statement in command[plural]]
        for query in filters:
            key = (collection, repr(_shape(query)))
            self.shapes.setdefault(key, dict(query))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@pytest.fixture
async def recorded(
    infra: Infra, unique: str
) -> AsyncIterator[tuple[AsyncDatabase[Document], FilterRecorder]]:
    name = f"hotpaths_{unique}"
    recorder = FilterRecorder(name)
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        infra.mongodb_uri, tz_aware=True, event_listeners=[recorder]
    )
    try:
        if not await ferretdb_on_postgresql(client):
            pytest.skip("the MongoDB server is not FerretDB on PostgreSQL (MONGODB_URI elsewhere?)")
        yield client[name], recorder
    finally:
        await client.drop_database(name)
        await client.close()


async def _run_hot_paths(database: AsyncDatabase[Document]) -> None:
    store = EventStore(database, source="ucap/tally")
    await store.create_indexes()
    tallies = Aggregates(int, _count, kind="tally")
    for _ in range(3):
        loaded = await tallies.load(store, "tally-1")
        await store.append("tally-1", loaded.version, [Counted(tally_id="tally-1")], actor="t")
    await tallies.load(store, "tally-1")
    await store.load_after("tally-1", 1)

    # A claim whose writer died makes the next writer read the revision log.
    await database[REVISIONS].insert_one(
        {"_id": "tallies_view|tally-1|2", "claimed_at": datetime.now(UTC) - 2 * STALE_CLAIM}
    )
    for sequence in (1, 2):
        await apply_event(
            database["tallies_view"],
            "tally-1",
            stream="tally-1",
            sequence=sequence,
            project=lambda current: {"n": (current or {}).get("n", 0) + 1},
            contiguous=True,
        )

    await store.append("tally-2", 0, [Counted(tally_id="tally-2")], actor="t")
    await store.append("tally-2", 1, [Counted(tally_id="tally-2")], actor="t")
    refused = await store.commit_at("tally-2", 1)
    assert refused is not None
    await store.park(refused, error="MessageSizeTooLargeError", tries=5)
    await store.unpublished(100)
    await store.retry_parked(refused["_id"], by="t")
    pending, _ = await store.unpublished(100)
    await store.mark_published([commit["_id"] for commit in pending])
    await store.backlog()
    await store.parked()

    lease = Lease(database["leases"], "relay", ttl_seconds=15)
    await lease.acquire()
    await lease.acquire()
    await lease.release()

    positions = StreamPositions(database["stream_positions"], "tally")
    await positions.advance("ucap.tally.events", "tally-1", 1, event_time=datetime.now(UTC))
    await positions.last("ucap.tally.events", "tally-1")

    keys = KeyStore(database)
    await keys.create_indexes()
    created = await keys.create("iuc", [Role.READER])
    await keys.authenticate(created.secret)
    await keys.touches_written()


async def _run_reporting_paths(database: AsyncDatabase[Document]) -> None:
    """A U-CAP event pulls its lead's MoUs; a MoU event finds the U-CAPs its parties lead."""
    await reporting_views.create_indexes(database)
    handlers = {h.type_prefix: h for h in all_handlers(MongoViews(database))}
    await dispatch(handlers["ucap.ucap."], ucap_created("u", "granada", ["kunming"]), group="t")
    drafted = Streams().mou_drafted("m", ["granada", "kunming"])
    await dispatch(handlers["ucap.mou."], drafted, group="t")


async def _run_webhook_paths(database: AsyncDatabase[Document]) -> None:
    """An applied event looks up the U-CAP's subscriptions and writes a delivery; the
    worker finds the due ones and records a try; the overdue check finds its subscribers."""
    await subscriptions.create_indexes(database)
    await deliveries.create_indexes(database)
    await subscriptions.insert(
        database,
        caller=Principal(subject="ops:t", roles=frozenset({Role.ADMIN})),
        url="http://127.0.0.1:9/hooks",
        ucap_ids=["u"],
        kinds=list(ChangeKind),
        secret="whsec_t",
        description=None,
    )
    section = Envelope(
        source="ucap/reporting",
        type="ucap.ucap.section_updated.v1",
        subject="u",
        sequence=2,
        data={},
        actor="t",
    )
    assert await announce(database, MongoViews(database), section) == 1
    due = await deliveries.due(database, datetime.now(UTC), 100)
    await deliveries.record_success(database, due[0], 200)
    await subscriptions.wanting(database, ChangeKind.MILESTONE_OVERDUE)


async def _fill(database: AsyncDatabase[Document], collection: str) -> None:
    """Rows enough that a scan costs more than the index, with the queried fields unlike."""
    documents: list[dict[str, Any]] = [
        {
            "_id": f"filler-{n}",
            "aggregate_id": f"filler-{n // 10}",
            "sequence": n % 10 + 1,
            "published": True,
            "group": "filler",
            "topic": "filler",
            "stream": f"filler-{n}",
        }
        for n in range(FILLER)
    ]
    await database[collection].insert_many(documents)
    await analyze_table(database.name, collection)


class TestHotPathQueriesUseIndexes:
    async def test_every_filter_the_hot_paths_send_is_an_index_scan(
        self, recorded: tuple[AsyncDatabase[Document], FilterRecorder]
    ) -> None:
        database, recorder = recorded
        await _run_hot_paths(database)
        await _run_reporting_paths(database)
        await _run_webhook_paths(database)
        assert not recorder.aggregations, recorder.aggregations
        shapes = dict(recorder.shapes)
        collections = {collection for collection, _ in shapes}
        assert {
            "events",
            "parked_commits",
            "snapshots",
            "tallies_view",
            "view_revisions",
            "leases",
            "ucaps_view",
            "mous_view",
            "webhook_subscriptions",
            "webhook_deliveries",
        } <= collections
        for collection in sorted(collections):
            await _fill(database, collection)

        scans = [
            f"{collection}: {query}"
            for (collection, _), query in sorted(shapes.items())
            if not await plan_uses_index(database, collection, query)
        ]

        assert not scans, "queries PostgreSQL answers by scanning the table:\n" + "\n".join(scans)
