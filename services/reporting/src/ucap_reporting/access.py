"""Who may change which U-CAP: the caller's identity against the U-CAP's lead city.

Pure, like the domain. A city publisher creates only U-CAPs its own city
leads, and edits, logs activities on and delivers only U-CAPs its city leads
(as the U-CAP stands when loaded); it may not hand the lead to another city.
An admin does all of it. A reader writes nothing: the ``Writer`` dependency
refuses it before any rule here. Every refusal is a 403 raised before anything
is appended.
"""

from collections.abc import Mapping
from typing import Any

from ucap_reporting.domain import Ucap
from ucap_reporting.events import UcapCreated
from ucap_shared.auth import Principal, require


def check_create(caller: Principal, created: UcapCreated) -> None:
    require(
        caller,
        caller.acts_for(created.lead_city_id),
        f"create U-CAP {created.ucap_id} led by {created.lead_city_id!r}: a city creates only "
        "the U-CAPs it leads",
    )


def check_change(caller: Principal, ucap: Ucap, doing: str) -> None:
    """Refuse a change to ``ucap`` by a caller who does not act for its lead city."""
    require(
        caller,
        caller.acts_for(ucap.lead_city_id),
        f"{doing} U-CAP {ucap.ucap_id}: led by {ucap.lead_city_id!r}",
    )


def check_sections(caller: Principal, ucap: Ucap, changes: Mapping[str, Any]) -> None:
    """Editing sections: the caller leads the U-CAP, and a new lead is the caller's city too."""
    check_change(caller, ucap, "edit")
    lead = changes.get("lead_city_id")
    if lead is not None and lead != ucap.lead_city_id:
        require(
            caller,
            caller.acts_for(lead),
            f"hand U-CAP {ucap.ucap_id} to {lead!r}: a city names only itself as lead",
        )
