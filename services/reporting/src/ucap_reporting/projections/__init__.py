"""Projections of everyone's events into the reporting views, incrementally.

One module per source (``ucaps``, ``cities``, ``mous``, ``pilots``), each with a
top-level ``on_<event>`` function per event it reads; the documents and the one
step that applies a source's event are in ``documents``.

Views (all built only through ``ViewStore.apply``, i.e. the sequence guard):

- ``ucaps_view``: each U-CAP as folded from its own events.
- ``cities_view``, ``mous_view``, ``pilot_index_view``: this service's copy of
  each city, MoU and pilot (only what the status reads), each with ``seq``, the
  source's last applied sequence. ``pilot_index_view`` also says which U-CAP a
  pilot belongs to (``ucap_id``) and every U-CAP it ever belonged to.
- ``city_index_view``: city id -> the U-CAPs it takes part in (lead or
  counterpart). Only grows: a city dropped from a U-CAP stays listed, and its
  later events cost that U-CAP's document one harmless write.
- ``organisations_view``, ``organisation_index_view``: this service's copy of each
  organisation with no city (from the cities topic), and organisation id -> the
  U-CAPs whose MoUs or pilots refer to it (``organisations``).
- ``ucap_status_view``: one document per U-CAP: the U-CAP, and the copies of
  its cities, of its lead's MoUs, of the pilots that named it (bounded: see
  ``ucap_reporting.capacity``) and of the organisations those refer to.

Cost per event: a city event writes its city document and the status
documents of the U-CAPs that city takes part in; a MoU event its MoU and the
U-CAPs its parties lead; a pilot event its pilot and its U-CAP (plus any U-CAP it
left); a U-CAP event its own documents and its cities' index entries. Reads
are by id or an equality on an indexed field; the one wider read is a U-CAP's
creation pulling the pilots that named it before it existed.

Order across topics is not guaranteed (a pilot may arrive before its U-CAP),
so a status document takes copies from both directions: a U-CAP event *pulls*
its cities, its lead's MoUs (and, when created, its pilots), a city event
*pushes* itself to the U-CAPs in the city index, a MoU to the U-CAPs whose lead
(in ``ucaps_view``, indexed by ``lead_city_id``) is one of its parties, a pilot
to its U-CAP once that exists in ``ucaps_view`` (so pilots of U-CAPs unknown here
cost no status document). The writer writes the index (or its source document)
before it reads the other side, so of two concurrent writers at least one sees
the other; and every copy carries its source's ``seq``, so an older copy never
replaces a newer one. The status document therefore converges to the same content
whatever the interleaving. A MoU's lead-less copy is no loss: a MoU concerns a
U-CAP only if the lead is a party, and a MoU gaining the lead (``party_added``) is
pushed then. A U-CAP event drops the copies of MoUs its lead is not a party to (a
former lead's); pushes that read ``ucaps_view`` before a lead change and write
after that U-CAP event may leave copies of the former lead's MoUs (no more than
it is party to) until the next U-CAP event, and ``relevant_mou`` hides them.
What concerns the U-CAP now (a MoU between the lead and a counterpart, a pilot
whose ``ucap_id`` is this U-CAP and whose lead city is the U-CAP's lead or a
counterpart) is decided when the status is read, from the copies.
"""

from ucap_reporting.projections.cities import city_handlers
from ucap_reporting.projections.documents import (
    CITIES_VIEW,
    CITY_INDEX_VIEW,
    MOUS_VIEW,
    OWN_TOPIC,
    PILOT_INDEX_VIEW,
    STATUS_VIEW,
    UCAPS_VIEW,
    VIEWS,
    held_sequences,
    relevant_mou,
    relevant_pilot,
)
from ucap_reporting.projections.mous import mou_handlers
from ucap_reporting.projections.pilots import pilot_handlers
from ucap_reporting.projections.ucaps import own_handlers, ucap_of
from ucap_reporting.store import ViewStore
from ucap_shared.dispatch import Handlers

__all__ = [
    "CITIES_VIEW",
    "CITY_INDEX_VIEW",
    "MOUS_VIEW",
    "PILOT_INDEX_VIEW",
    "STATUS_VIEW",
    "UCAPS_VIEW",
    "VIEWS",
    "all_handlers",
    "held_sequences",
    "relevant_mou",
    "relevant_pilot",
    "ucap_of",
]


def all_handlers(views: ViewStore, own_topic: str = OWN_TOPIC) -> list[Handlers]:
    return [
        own_handlers(views, own_topic),
        city_handlers(views),
        mou_handlers(views),
        pilot_handlers(views),
    ]
