"""Who may change which MoU: the caller's identity against the MoU's own parties.

Pure, like the domain. A city publisher drafts only MoUs its city is a party
to, changes (adds a party, signs, amends, terminates) only MoUs its city is a
party to, and signs only for its own city. An admin does all of it. A reader
writes nothing: the ``Writer`` dependency refuses it before any rule here.
Every refusal is a 403 raised before anything is appended.
"""

from ucap_mous.domain import MoU
from ucap_mous.events import MouDrafted
from ucap_shared.auth import Principal, require
from ucap_shared.errors import FieldProblem, InvalidInputError


def check_draft(caller: Principal, drafted: MouDrafted) -> None:
    parties = [party.city_id for party in drafted.parties if party.city_id is not None]
    require(caller, caller.acts_for(parties), f"draft MoU {drafted.mou_id}: not one of its parties")


def check_change(caller: Principal, mou: MoU, doing: str) -> None:
    """Refuse a change to ``mou`` by a caller who does not act for one of its parties."""
    require(
        caller, caller.acts_for(mou.party_city_ids), f"{doing} MoU {mou.mou_id}: not a party to it"
    )


def check_expiry_run(caller: Principal) -> None:
    """The expiry check touches every city's MoUs: an operator's job."""
    require(caller, caller.is_admin, "run the expiry check of every city's MoUs")


def signing_party(
    caller: Principal, named: str | None, organisation_id: str | None
) -> tuple[str | None, str | None]:
    """The party (city id, organisation id) a signature is recorded for.

    A city publisher signs for its own city or one of its stakeholders: ``named`` may
    be left out, and naming another city is refused. It also records the signature of
    an organisation with no city (``organisation_id`` alone), on a MoU its city is a party
    to. An admin names the party (422 if neither id is given).
    """
    if caller.is_admin:
        city = named or (caller.city_id if organisation_id is None else None)
        if city is None and organisation_id is None:
            problem = FieldProblem(loc=["body", "city_id"], msg="name the party that signs")
            raise InvalidInputError([problem])
        return city, organisation_id
    require(
        caller,
        caller.city_id is not None and named in (None, caller.city_id),
        f"sign for {named or 'a city'}: a city signs only for itself",
    )
    assert caller.city_id is not None
    if named is None and organisation_id is not None:
        return None, organisation_id
    return caller.city_id, organisation_id
