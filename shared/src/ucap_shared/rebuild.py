"""Drop a service's views and rebuild them from the events.

The service's own events come from its event store (which holds even those
not yet published); other services' events from their topics, read from the
beginning to where they end when the rebuild starts. The consumer group's
offsets are then set to those ends, so the service, started again, carries on
from there. Its consumers must be stopped meanwhile: the rebuild refuses to
run while the group has members.

Being then the views' one writer, it folds them in memory
(``ucap_shared.view_buffer``) and inserts them in batches once every event is
replayed; until then the dropped views stay empty.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ucap_shared.dispatch import Handlers, Result, UnusableRecord, dispatch, parse_envelope
from ucap_shared.envelope import Envelope
from ucap_shared.eventstore import EventStore
from ucap_shared.positions import StreamPositions
from ucap_shared.runtime import ServiceDefinition, ServiceRuntime, opened_runtime
from ucap_shared.settings import ServiceSettings
from ucap_shared.topic_reading import TopicToItsEnd
from ucap_shared.view_buffer import ViewBuffer
from ucap_shared.views import REVISIONS, VIEW_BUFFER
from ucap_shared.written_documents import written_documents

PROGRESS_EVERY = 500
Ends = dict[TopicPartition, int]
Seen = dict[str, Envelope]
"""Each stream's last event replayed."""
EVENT_STORE = "event store"


@dataclass(frozen=True)
class RebuildProgress:
    """How far the replay of one source (the event store, or a topic) has got."""

    source: str
    done: int
    total: int


ProgressCallback = Callable[[RebuildProgress], None]


@dataclass
class RebuildReport:
    replayed: int = 0
    applied: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.skipped


class GroupStillActiveError(RuntimeError):
    pass


async def rebuild(
    settings: ServiceSettings,
    definition: ServiceDefinition,
    *,
    out: Callable[[str], None] = print,
    progress: ProgressCallback | None = None,
) -> RebuildReport:
    """Rebuild every view of the service; ``progress`` hears of each record replayed."""
    started = time.monotonic()
    report = RebuildReport()
    group = settings.group
    async with opened_runtime(settings) as runtime:
        database = runtime.database
        runtime.take_handlers(definition)
        await _refuse_if_active(settings.kafka_bootstrap_servers, group)
        for name in [*definition.views, REVISIONS, "held_events", "stream_positions"]:
            await database.drop_collection(name)
        written_documents().forget_database(database.name)
        out(f"dropped views: {', '.join(definition.views) or '(none)'}")
        positions = StreamPositions(database["stream_positions"], group)

        async def apply(handlers: Handlers, envelope: Envelope) -> None:
            report.replayed += 1
            try:
                result = await dispatch(handlers, envelope, group=group)
            except UnusableRecord as error:
                report.skipped.append(
                    f"{envelope.type} {envelope.subject}#{envelope.sequence}: {error}"
                )
                return
            report.applied += result is Result.APPLIED
            if report.replayed % PROGRESS_EVERY == 0:
                out(f"  … {report.replayed} events replayed")

        buffer = ViewBuffer()
        buffering = VIEW_BUFFER.set(buffer)
        try:
            ends_by_topic = await _replay_all(settings, runtime, apply, report, progress, out)
        finally:
            VIEW_BUFFER.reset(buffering)
        out(f"writing {buffer.documents()} view documents")
        await buffer.write(database, out)
        for handlers in runtime.handlers:
            ends, seen = ends_by_topic[handlers.topic]
            for stream, last in seen.items():
                await positions.advance(handlers.topic, stream, last.sequence, event_time=last.time)
            await _commit_group_offsets(settings.kafka_bootstrap_servers, group, ends)
    report.seconds = time.monotonic() - started
    out(
        f"rebuilt in {report.seconds:.1f}s: {report.replayed} events replayed, "
        f"{report.applied} applied, {len(report.skipped)} skipped"
    )
    for reason in report.skipped[:20]:
        out(f"  skipped {reason}")
    return report


async def _replay_all(
    settings: ServiceSettings,
    runtime: ServiceRuntime,
    apply: Callable[[Handlers, Envelope], Awaitable[None]],
    report: RebuildReport,
    progress: ProgressCallback | None,
    out: Callable[[str], None],
) -> dict[str, tuple[Ends, Seen]]:
    """The event store through the own handlers, then each topic to its end."""
    own = next((h for h in runtime.handlers if h.topic == runtime.own_topic), None)
    if own is not None:
        out(f"replaying the event store ({await runtime.store.count()} commits)")
        total, done = await _count_events(runtime.store), 0
        _tell(progress, EVENT_STORE, done, total)
        async for envelope in runtime.store.read_all():
            await apply(own, envelope)
            done += 1
            _tell(progress, EVENT_STORE, done, total)
    ends_by_topic: dict[str, tuple[Ends, Seen]] = {}
    for handlers in runtime.handlers:
        out(f"replaying {handlers.topic} from the beginning")
        ends_by_topic[handlers.topic] = await _replay_topic(
            settings.kafka_bootstrap_servers, handlers, apply, report, progress
        )
    return ends_by_topic


def _tell(progress: ProgressCallback | None, source: str, done: int, total: int) -> None:
    if progress is not None:
        progress(RebuildProgress(source, done, total))


async def _count_events(store: EventStore) -> int:
    """Events, not commits: a commit holds every event of one append."""
    total = 0
    async for commit in store.commits.find({}, {"sequence": 1, "last_sequence": 1}):
        total += int(commit["last_sequence"]) - int(commit["sequence"]) + 1
    return total


async def _refuse_if_active(bootstrap: str, group: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    for response in described:
        for entry in response.groups:
            state, members = entry[2], entry[5]
            if members:
                raise GroupStillActiveError(
                    f"consumer group {group} has {len(members)} active member(s) ({state}): "
                    "stop the service before rebuilding its views"
                )


async def _replay_topic(
    bootstrap: str,
    handlers: Handlers,
    apply: Callable[[Handlers, Envelope], Awaitable[None]],
    report: RebuildReport,
    progress: ProgressCallback | None = None,
) -> tuple[Ends, Seen]:
    """Replay one topic up to its current end; the ends, and each stream's last event."""
    seen: dict[str, Envelope] = {}
    async with TopicToItsEnd(bootstrap, handlers.topic) as reading:
        total, done = reading.offsets, 0
        _tell(progress, handlers.topic, done, total)
        async for record in reading.records():
            done += 1
            _tell(progress, handlers.topic, done, total)
            try:
                envelope = parse_envelope(record.value)
            except UnusableRecord as error:
                report.skipped.append(f"{record.topic}/{record.partition}@{record.offset}: {error}")
                continue
            last = seen.get(envelope.subject)
            if last is None or envelope.sequence > last.sequence:
                await apply(handlers, envelope)
                seen[envelope.subject] = envelope
        # The offsets counted also hold the relay's transaction markers, which are no records.
        _tell(progress, handlers.topic, done, done)
        return reading.ends, seen


async def _commit_group_offsets(
    bootstrap: str, group: str, ends: dict[TopicPartition, int]
) -> None:
    if not ends:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit(ends)
    finally:
        await consumer.stop()
