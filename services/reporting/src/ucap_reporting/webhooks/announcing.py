"""Deliveries written where the events are applied: the consumers' handlers, wrapped.

After a handler applied an event (or found it applied before: a redelivered event
announces nothing twice, the delivery's unique id sees to that), the U-CAPs whose status
it changes are found the way the projections push to them: a U-CAP's own event, its
own; a pilot's, the U-CAP it names (if its lead takes part there); a city's, the U-CAPs
in the city index; a MoU's, the U-CAPs its parties lead. Each costs point reads, or
equalities on indexed fields, of the views and of the subscriptions naming that U-CAP.

A subscription hears of events recorded from its registration on (a consumer group
reset to the topics' beginning announces no history), and a city's subscription only
while the city still takes part in the U-CAP.
"""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from ucap_reporting.projections import (
    CITY_INDEX_VIEW,
    MOUS_VIEW,
    PILOT_INDEX_VIEW,
    UCAPS_VIEW,
    relevant_pilot,
)
from ucap_reporting.store import MongoViews, ViewStore
from ucap_reporting.webhooks import deliveries, subscriptions
from ucap_reporting.webhooks.subscriptions import ChangeKind
from ucap_shared.dispatch import Handler, Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.views import VIEW_BATCH, VIEW_BUFFER, Document, Outcome

Database = AsyncDatabase[Document]
MOU_SIGNED_TYPE = "ucap.mou.signed.v1"


async def concerned_ucaps(views: ViewStore, envelope: Envelope) -> dict[str, Document | None]:
    """The ids of the U-CAPs whose status this event (just applied) may change, each with
    the pilot copy that must belong to it (a pilot's event), else None."""
    kind = envelope.type.split(".")[1]
    if kind == "ucap":
        return {envelope.subject: None}
    if kind == "pilot":
        pilot = await views.get(PILOT_INDEX_VIEW, envelope.subject)
        return {pilot["ucap_id"]: pilot} if pilot and pilot.get("ucap_id") else {}
    if kind == "city":
        index = await views.get(CITY_INDEX_VIEW, envelope.subject)
        return dict.fromkeys(index["ucap_ids"]) if index else {}
    if kind == "mou":
        mou = await views.get(MOUS_VIEW, envelope.subject)
        parties = list(mou["party_city_ids"]) if mou else []
        led = await views.find_in(UCAPS_VIEW, "lead_city_id", parties)
        return dict.fromkeys(ucap["ucap_id"] for ucap in led)
    return {}


def _takes_part(subscription: Document, ucap: Document) -> bool:
    city = subscription.get("city_id")
    return city is None or city in {ucap["lead_city_id"], *ucap["counterpart_city_ids"]}


def _since(subscription: Document) -> datetime:
    created: datetime = subscription["created_at"]
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def event_summary(envelope: Envelope) -> Document:
    return {
        "id": str(envelope.id),
        "type": envelope.type,
        "source": envelope.source,
        "subject": envelope.subject,
        "sequence": envelope.sequence,
        "time": envelope.time.isoformat(),
        "actor": envelope.actor,
        "data": envelope.data,
    }


async def announce(database: Database, views: ViewStore, envelope: Envelope) -> int:
    """Write the deliveries this applied event makes; how many were new.

    The subscriptions are looked up first (one indexed equality per U-CAP, once per
    consumer batch), so an event of U-CAPs nobody subscribed to costs no more than that.
    """
    kinds = [ChangeKind.STATUS_CHANGED]
    if envelope.type == MOU_SIGNED_TYPE:
        kinds.append(ChangeKind.MOU_SIGNED)
    written = 0
    for ucap_id, pilot in sorted((await concerned_ucaps(views, envelope)).items()):
        subscribed = [
            subscription
            for subscription in await _subscribed_to(database, ucap_id)
            if envelope.time >= _since(subscription)
            and any(kind.value in subscription["kinds"] for kind in kinds)
        ]
        if not subscribed:
            continue
        ucap = await views.get(UCAPS_VIEW, ucap_id)
        if ucap is None or (pilot is not None and not relevant_pilot(ucap, pilot)):
            continue
        for subscription in subscribed:
            if not _takes_part(subscription, ucap):
                continue
            for kind in kinds:
                if kind.value in subscription["kinds"]:
                    written += await deliveries.enqueue(
                        database,
                        subscription,
                        ucap_id=ucap_id,
                        kind=kind.value,
                        cause=str(envelope.id),
                        what={"event": event_summary(envelope)},
                    )
    return written


async def _subscribed_to(database: Database, ucap_id: str) -> list[Document]:
    """The U-CAP's subscriptions; within a consumer batch read once for all its events.

    Every record of a batch was fetched before the read, so each was recorded before it:
    a subscription registered after the read does not hear of them in any case.
    """
    batch = VIEW_BATCH.get()
    if batch is None:
        return await subscriptions.for_ucap(database, ucap_id)
    key = (database.name, subscriptions.SUBSCRIPTIONS, ucap_id)
    return await batch.read_once(key, lambda: subscriptions.for_ucap(database, ucap_id))


def announcing(handlers: Handlers, database: Database) -> Handlers:
    """``handlers``, each of which then writes the deliveries its event makes."""
    views = MongoViews(database)
    wrapped = Handlers(handlers.topic, handlers.type_prefix)
    for event_type, (model, handler) in handlers.by_type.items():
        wrapped.by_type[event_type] = (model, _announcing(handler, database, views))
    return wrapped


def _announcing(handler: Handler, database: Database, views: ViewStore) -> Handler:
    async def apply(envelope: Envelope, data: EventData) -> Outcome | None:
        outcome = await handler(envelope, data)
        if VIEW_BUFFER.get() is None:  # a rebuild replays history: nothing to announce
            await announce(database, views, envelope)
        return outcome

    return apply
