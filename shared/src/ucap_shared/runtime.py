"""A service's runtime: what it holds while it runs, and what defines it.

The HTTP app (:mod:`ucap_shared.app`) and the offline rebuild
(:mod:`ucap_shared.rebuild`) both open one with :func:`opened_runtime`.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.applied import AppliedEvents
from ucap_shared.consumer import ConsumerRunner, TopicFreshness
from ucap_shared.dispatch import Handler, Handlers, UnusableRecord, dispatch
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.eventstore import EventStore
from ucap_shared.metrics import MetricsListener
from ucap_shared.mongo import MongoClient, connect_mongo
from ucap_shared.relay import Relay
from ucap_shared.sampled_gauges import GaugeSampler
from ucap_shared.settings import ServiceSettings
from ucap_shared.topics import TopicSpec, dead_letter_topic, events_topic
from ucap_shared.views import Outcome, StreamGap

HEALING_ATTEMPTS = 5


@dataclass
class ServiceRuntime:
    """What a running service holds: its settings, clients and event machinery."""

    settings: ServiceSettings
    mongo: MongoClient
    store: EventStore
    handlers: list[Handlers] = field(default_factory=list)
    relay: Relay | None = None
    consumer: ConsumerRunner | None = None
    sampler: GaugeSampler | None = None
    metrics_listener: MetricsListener | None = None
    applied_own: AppliedEvents = field(default_factory=AppliedEvents)

    @property
    def database(self) -> AsyncDatabase[dict[str, Any]]:
        return self.mongo[self.settings.database]

    @property
    def own_topic(self) -> str:
        return events_topic(self.settings.service_name)

    def topic_specs(self) -> list[TopicSpec]:
        names = {self.own_topic, dead_letter_topic(self.settings.service_name)}
        names |= {handlers.topic for handlers in self.handlers}
        return [
            TopicSpec(
                name,
                partitions=self.settings.kafka_topic_partitions,
                replication_factor=self.settings.kafka_replication_factor,
            )
            for name in sorted(names)
        ]

    def take_handlers(self, definition: "ServiceDefinition") -> None:
        self.handlers = list(definition.handlers(self)) if definition.handlers else []

    def own_handlers(self) -> Handlers | None:
        return next((h for h in self.handlers if h.topic == self.own_topic), None)

    async def project_own(self, envelopes: Sequence[Envelope]) -> None:
        """Apply freshly appended events to the service's own views at once.

        The consumer of the service's own topic applies them again later; the
        views' sequence guard makes that a no-op. If this process dies before
        projecting, that consumer, or the next command on the aggregate, is
        what brings the views up to date.
        """
        own = self.own_handlers()
        if own is None:
            return
        for envelope in envelopes:
            try:
                await dispatch(own, envelope, group=self.settings.group)
            except UnusableRecord:
                return

    def install_healing(self) -> None:
        """Own views take no event before its predecessors: on a gap, the store's come first.

        A gap in an own view means a writer appended and died (or lost the
        database) before projecting, or a concurrent writer is still projecting
        its earlier event. Either way the missing events are in the store.
        """
        own = self.own_handlers()
        if own is None:
            return
        healed = Handlers(own.topic, own.type_prefix, guard_themselves=True)
        for event_type, (model, handler) in own.by_type.items():
            healed.by_type[event_type] = (model, self._healing(healed, handler))
        self.handlers = [healed if h is own else h for h in self.handlers]

    def _healing(self, healed: Handlers, handler: Handler) -> Handler:
        async def apply(envelope: Envelope, data: EventData) -> Outcome | None:
            return await self.applied_own.once(
                (envelope.subject, envelope.sequence), lambda: heal_and_apply(envelope, data)
            )

        async def heal_and_apply(envelope: Envelope, data: EventData) -> Outcome | None:
            for _ in range(HEALING_ATTEMPTS):
                try:
                    return await handler(envelope, data)
                except StreamGap as gap:
                    missing_events = await self.store.load_after(
                        envelope.subject, gap.last, within_commit=True
                    )
                    for missing in missing_events:
                        if missing.sequence >= envelope.sequence:
                            break
                        await dispatch(healed, missing, group=self.settings.group)
            return await handler(envelope, data)

        return apply

    def sampled_backlog(self) -> int | None:
        return self.sampler.backlog if self.sampler else None

    def freshness(self) -> list[TopicFreshness]:
        return list(self.consumer.freshness.values()) if self.consumer else []


HandlersFactory = Callable[[ServiceRuntime], Sequence[Handlers]]
Background = Callable[[FastAPI, ServiceRuntime], AbstractAsyncContextManager[None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes one service: its API, its event handlers and the views they write."""

    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    handlers: HandlersFactory | None = None
    views: Sequence[str] = ()
    """Collections built from events: dropped and rebuilt by ``rebuild``."""
    publishes_events: bool = True
    setup: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    """Runs once at start-up after the store's indexes: the views' own indexes, say."""
    background: Background | None = None
    """Entered once everything else runs, left at shutdown: scheduled checks, live feeds."""
    verifies_tokens: bool = True
    """Every request needs the gateway's token; the gateway itself checks API keys instead."""
    install: Callable[[FastAPI, ServiceSettings], None] | None = None
    """Adds what the app needs at build time: middleware of the service's own, which runs
    before the request guard (the gateway's gatekeeper: keys checked before a body is read)."""


@asynccontextmanager
async def opened_runtime(settings: ServiceSettings) -> AsyncIterator[ServiceRuntime]:
    """The service's MongoDB client and event store, the client closed on the way out."""
    mongo = connect_mongo(settings.mongodb_uri)
    try:
        yield ServiceRuntime(
            settings=settings,
            mongo=mongo,
            store=EventStore(mongo[settings.database], source=f"ucap/{settings.service_name}"),
        )
    finally:
        await mongo.close()
