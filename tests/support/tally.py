"""A tiny aggregate for testing the event backbone: a tally that counts."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ucap_shared.consumer import COMMIT_EVERY_SECONDS, QUIET_SECONDS, ConsumerRunner
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.eventstore import EventStore
from ucap_shared.handler_retries import RetryPolicy
from ucap_shared.lease import Lease
from ucap_shared.relay import Relay
from ucap_shared.topics import TopicSpec
from ucap_shared.views import Outcome, apply_event

Document = dict[str, Any]


class Counted(EventData):
    event_type = "ucap.tally.counted.v1"

    amount: int


EachEvent = Callable[[Envelope], Awaitable[None]]


def tally_handlers(
    topic: str,
    view: AsyncCollection[Document],
    *,
    each: EachEvent | None = None,
) -> Handlers:
    """``each`` is awaited before every event is applied (a test's hook into a batch)."""
    handlers = Handlers(topic, "ucap.tally.")

    @handlers.on(Counted)
    async def on_counted(envelope: Envelope, data: Counted) -> Outcome:
        if each is not None:
            await each(envelope)

        def project(current: Document | None) -> Document:
            current = current or {"total": 0, "sequences": []}
            return {
                "total": current["total"] + data.amount,
                "sequences": [*current["sequences"], envelope.sequence],
            }

        return await apply_event(
            view,
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=project,
        )

    return handlers


@dataclass
class Backbone:
    """A store, relay and consumer for one test's own topic and database."""

    bootstrap: str
    database: AsyncDatabase[Document]
    topic: str
    dlq: str

    @property
    def store(self) -> EventStore:
        return EventStore(self.database, source="ucap/tally")

    @property
    def view(self) -> AsyncCollection[Document]:
        return self.database["tally_view"]

    def topics(self) -> list[TopicSpec]:
        return [TopicSpec(self.topic, partitions=3), TopicSpec(self.dlq, partitions=1)]

    def relay(self, store: EventStore, relay_class: type[Relay] = Relay) -> Relay:
        return relay_class(
            store,
            Lease(self.database["leases"], "relay", ttl_seconds=5),
            bootstrap_servers=self.bootstrap,
            topic=self.topic,
            poll_seconds=0.5,
            topics_to_create=self.topics(),
        )

    def consumer(
        self,
        group: str = "tally",
        *,
        each: EachEvent | None = None,
        runner: type[ConsumerRunner] = ConsumerRunner,
        commit_every_seconds: float = COMMIT_EVERY_SECONDS,
        quiet_seconds: float = QUIET_SECONDS,
        guard_themselves: bool = False,
    ) -> ConsumerRunner:
        handlers = tally_handlers(self.topic, self.view, each=each)
        handlers.guard_themselves = guard_themselves
        return runner(
            bootstrap_servers=self.bootstrap,
            group=f"{group}-{self.topic}",
            handlers=[handlers],
            database=self.database,
            dead_letter_topic=self.dlq,
            retry=RetryPolicy(attempts=2, first_backoff_seconds=0.05),
            topics_to_create=self.topics(),
            commit_every_seconds=commit_every_seconds,
            quiet_seconds=quiet_seconds,
        )
