"""Milestones newly overdue: found by a periodic check, since no event marks the moment.

The check reads, for each subscription that wants ``milestone_overdue``, the status
documents of its U-CAPs (by id, once per U-CAP per check) and enqueues one delivery per
overdue milestone; the delivery's unique id (subscription, pilot, milestone, planned
date) makes each milestone announced once per subscription, however often the check
runs, and again only if its planned date moves. A subscription registered while a
milestone is already overdue hears of it at the next check. Its cost grows with the
subscriptions that want the kind, not with the data.
"""

from datetime import date

from pymongo.asynchronous.database import AsyncDatabase

from ucap_reporting import views
from ucap_reporting.status import UcapStatus, status_of
from ucap_reporting.webhooks import deliveries, subscriptions
from ucap_reporting.webhooks.subscriptions import ChangeKind
from ucap_shared.views import Document

Database = AsyncDatabase[Document]


async def check_overdue(database: Database, today: date) -> int:
    """Enqueue a delivery per subscription and milestone overdue on ``today``; how many new."""
    statuses: dict[str, UcapStatus | None] = {}
    written = 0
    kind = ChangeKind.MILESTONE_OVERDUE
    for subscription in await subscriptions.wanting(database, kind):
        for ucap_id in subscription["ucap_ids"]:
            if ucap_id not in statuses:
                document = await views.status_document(database, ucap_id)
                statuses[ucap_id] = status_of(document, today, []) if document else None
            status = statuses[ucap_id]
            if status is None or not _takes_part(subscription, status):
                continue
            for milestone in status.flags.overdue_milestones:
                planned_on = milestone.planned_on.iso()
                written += await deliveries.enqueue(
                    database,
                    subscription,
                    ucap_id=ucap_id,
                    kind=kind.value,
                    cause=f"{milestone.pilot_id}/{milestone.milestone_id}@{planned_on}",
                    what={
                        "milestone": {
                            "pilot_id": milestone.pilot_id,
                            "milestone_id": milestone.milestone_id,
                            "title": milestone.title,
                            "planned_on": planned_on,
                        },
                        "found_on": today.isoformat(),
                    },
                )
    return written


def _takes_part(subscription: Document, status: UcapStatus) -> bool:
    city = subscription.get("city_id")
    ucap = status.ucap
    return city is None or city in {ucap.lead_city_id, *ucap.counterpart_city_ids}
