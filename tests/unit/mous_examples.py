"""MoUs, events and parties to build the MoU aggregate's unit tests from (no I/O).

Three kinds of party: a city (``GRANADA``), a city's stakeholder organisation (``FIRA``)
and an organisation with no city (``FUND``).
"""

from collections.abc import Iterable
from datetime import date

from ucap_mous import domain
from ucap_mous.domain import KnownCities, KnownOrganisations, MoU, Signature
from ucap_mous.events import MouDrafted, MouEvent, MouSigned, Party
from ucap_shared.dates import PartialDate

MOU_ID = "granada-zhengzhou-2018"
TODAY = date(2024, 1, 15)

GRANADA = Party(city_id="granada")
ZHENGZHOU = Party(city_id="zhengzhou", stakeholder_ids=("chengang-group",))
BARCELONA = Party(city_id="barcelona")
FIRA = Party(city_id="barcelona", organisation_id="fira-de-barcelona")
FUND = Party(organisation_id="uk-china-biotech-fund")
KUNMING = Party(city_id="kunming")

CITIES: KnownCities = {
    "granada": frozenset({"pts-health-park"}),
    "zhengzhou": frozenset({"chengang-group"}),
    "barcelona": frozenset({"fira-de-barcelona"}),
    "kunming": frozenset(),
}
ORGANISATIONS: KnownOrganisations = frozenset({"uk-china-biotech-fund", "eurocities"})


def drafted(**changes: object) -> MouDrafted:
    fields: dict[str, object] = {
        "mou_id": MOU_ID,
        "title": "MoU between Granada and Zhengzhou",
        "subject": "Smart city cooperation",
        "parties": (GRANADA, ZHENGZHOU),
        "themes": ("Smart City and Digital Transition",),
        "valid_from": None,
        "valid_until": None,
        "documents": (),
    }
    return MouDrafted.model_validate({**fields, **changes})


def applied(state: MoU | None, events: Iterable[MouEvent]) -> MoU:
    """``state`` after ``events``."""
    for event in events:
        state = domain.evolve(state, event)
    assert state is not None
    return state


def a_mou(**changes: object) -> MoU:
    """A MoU just drafted (by the event, not the command: no rule is consulted)."""
    return applied(None, [drafted(**changes)])


def signature(party: Party, on: str | None = "2018-07", **fields: object) -> Signature:
    return Signature.model_validate(
        {
            "city_id": party.city_id,
            "organisation_id": party.organisation_id,
            "signed_on": on,
            **fields,
        }
    )


def signed(party: Party, on: str | None = "2018-07", **fields: object) -> MouSigned:
    """The event of ``party`` signing ``MOU_ID``."""
    values: dict[str, object] = {"place": None, "signatory": None, "occasion": None, **fields}
    return MouSigned.model_validate(
        {
            "mou_id": MOU_ID,
            "city_id": party.city_id,
            "organisation_id": party.organisation_id,
            "signed_on": on,
            **values,
        }
    )


def signed_by_all(mou: MoU, on: str | None = "2018-07") -> MoU:
    """``mou`` once every party has signed on ``on``."""
    return applied(mou, [signed(party, on) for party in mou.parties])


def day(text: str) -> PartialDate:
    return PartialDate.parse(text)
