"""How many MoUs a city may be party to, and how many parties a MoU may have (409).

Reporting keeps, in each U-CAP's status document, a copy of every MoU the U-CAP's lead
is party to; MongoDB refuses a document over 16 MiB, and ``ucap_reporting.capacity``
shows the document stays under it while a city is party to at most
``bounds.MOUS_PER_CITY`` MoUs of at most ``MAX_PARTIES`` parties. So a draft, or a new
party, that would make a city party to more is refused before anything is appended, and
so is a party past ``MAX_PARTIES`` (a draft lists at most that many: a request bound).

The count is of the MoUs in ``mous_view`` whose parties hold the city (an equality on
an indexed field, read up to the limit), whatever their status: reporting keeps copies
of expired and terminated MoUs too. Commands that make a city a party take turns per
city within a process (see ``handlers``), so only replicas racing each other can pass
the limit, by one MoU per other replica; reporting's arithmetic leaves room for that.
"""

from ucap_mous.domain import MoU
from ucap_shared import bounds
from ucap_shared.errors import ConflictError

MOUS_PER_CITY = bounds.MOUS_PER_CITY
MAX_PARTIES = bounds.ITEMS_PER_LIST


def check_city_room(city_id: str, mou_id: str, party_to: int) -> None:
    """409 when ``city_id`` is party to ``MOUS_PER_CITY`` MoUs already."""
    if party_to >= MOUS_PER_CITY:
        raise ConflictError(
            f"{city_id} is party to {party_to} MoUs, the most one city may be "
            f"({MOUS_PER_CITY}): it cannot be a party to {mou_id}",
            city_id=city_id,
            mou_id=mou_id,
            limit=MOUS_PER_CITY,
        )


def check_party_room(mou: MoU) -> None:
    """409 when ``mou`` has ``MAX_PARTIES`` parties already."""
    if len(mou.parties) >= MAX_PARTIES:
        raise ConflictError(
            f"MoU {mou.mou_id} has {len(mou.parties)} parties, the most a MoU may have "
            f"({MAX_PARTIES})",
            mou_id=mou.mou_id,
            limit=MAX_PARTIES,
        )
