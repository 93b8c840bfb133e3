"""Who may change which pilot: the caller's identity against the pilot's own cities.

Pure, like the domain. A city publisher proposes only pilots its city leads,
changes (status, details, milestones, funding, indicators, progress) only
pilots its city leads or is a partner in, and reports progress only as its
own city. An admin does all of it. A reader writes nothing: the ``Writer``
dependency refuses it before any rule here. Every refusal is a 403 raised
before anything is appended.
"""

from ucap_pilots.domain import Pilot
from ucap_pilots.events import PilotProposed, ProgressUpdate
from ucap_shared.auth import Principal, require


def check_propose(caller: Principal, proposed: PilotProposed) -> None:
    require(
        caller,
        caller.acts_for(proposed.lead_city_id),
        f"propose a pilot led by {proposed.lead_city_id}: a city proposes only as lead",
    )


def check_change(caller: Principal, pilot: Pilot) -> None:
    """Refuse a change to ``pilot`` by a caller acting for none of its cities."""
    require(
        caller,
        caller.acts_for([pilot.lead_city_id, *pilot.city_ids]),
        f"change {pilot.pilot_id}: not its lead city nor a partner",
    )


def check_reporter(caller: Principal, update: ProgressUpdate) -> None:
    """A city reports progress as itself; an admin may name any city of the pilot."""
    require(
        caller,
        caller.is_admin or update.reporting_city_id == caller.city_id,
        f"report progress as {update.reporting_city_id}: a city reports only as itself",
    )
