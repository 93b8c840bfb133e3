"""How large a U-CAP may grow, refused at the command that would pass it (409).

MongoDB refuses a document over 16 MiB. A U-CAP's state is written whole three times
over: its snapshot (one JSON string), its ``ucaps_view`` document and the ``ucap`` field
of its status document. Its timeline (activities) and deliverables grow with every
command, so the state, as JSON, is held to ``MAX_UCAP_BYTES``: a command whose result
would be larger, and larger than before, is refused before anything is appended. BSON
spends at most 8 bytes more per value than JSON (a type byte, an array index, a length),
and the smallest value a U-CAP holds many of takes 4 bytes of JSON (``"a",`` in a list of
an activity's places or cities), so no copy of it passes three times that: 0.75 MiB.

The status document's budget, in bytes of BSON (16 MiB: 16,777,216):

- its U-CAP: at most 786,432 (0.75 MiB, above);
- its pilot copies: at most 500 of under 28 KiB (``ucap_pilots.capacity``): 14,336,000,
  and their entries in ``_applied`` (``pilot:`` and an id of at most 100 characters, a
  type byte, a NUL and an int64: 122 each): 61,000;
- its city copies: the lead and at most 50 counterparts, 51 of at most ``CITY_COPY_BYTES``
  each (below): 992,256, and 51 entries in ``_applied`` of 84 bytes (city ids are slugs of
  at most 63 characters): 4,284;
- its MoU copies: those of its lead, who is party to at most ``bounds.MOUS_PER_CITY``
  (40) MoUs, plus ``MOUS_MARGIN`` (2) that replicas of the mous service racing each
  other may let past that (one per other replica: three replicas): 42 of at most
  ``MOU_COPY_BYTES`` each (below): 516,096, and 42 entries in ``_applied`` of 120 bytes
  (MoU ids: 100 characters): 5,040;

16,701,108 in all, which leaves 76,108 for the document's own fields: its id, the
facets but ``f_clusters`` (the U-CAP's theme titles, SDGs and countries: about 17 kB)
and the packing. ``tests/unit/test_view_bounds.py`` builds the largest copies through
these projections, measures them, and builds the largest status document of them: 15.0
MB. Not covered by the bounds above: ``f_clusters`` repeats the clusters of the cities
and pilots copied (1.2 MB for 51 cities of 20 clusters and 500 pilots of one, each of 200
four-byte characters), and while a change of lead races MoU events, copies of the
former lead's MoUs may linger until the U-CAP's next event (see ``projections``): up to
42 more. The largest pilot copy measures 23 kB, not 28 KiB, which leaves room for both
in that document (1.8 MB of room). Nor does the cities service bound how many clusters a city
joins after it registers (20 at most when it registers), nor the copies of organisations
with no city that its MoUs' parties and pilots refer to (about 1 kB each at most; a
U-CAP refers to a handful).

A copy that would pass its bound (``CITY_COPY_BYTES``, ``MOU_COPY_BYTES``,
``PILOT_COPY_BYTES``, as BSON) keeps its core and leaves out its details, marked
``details_omitted`` (``projections.documents.fitted``): a city its stakeholders; a MoU
its subject, themes, parties' stakeholders and signatures' place, signatory and
occasion; a pilot its description and indicators. Only a copy near every limit of its
service at once is cut so.

A city copy (``projections.cities``) holds three texts of at most 200 characters (name,
native name, region: 2,400 bytes of UTF-8), at most 20 clusters of 200 characters
(16,000, as a city registers them), its id (63), a country, a world region (at most 31),
a population, an area and a sequence; with BSON's keys, types and lengths (under 500),
under 19 KiB. A MoU copy (``projections.mous``) holds its id (100), a title of at most
500 characters (2,000 bytes), at most 50 party ids (63 each, 3,550 with their array
entries), at most one signature per party (a document of an id and a date: 112 bytes
each, 5,600), four dates and a sequence (under 200 with keys): under 12 KiB.
"""

from collections.abc import Sequence

from ucap_reporting.domain import Ucap, evolve
from ucap_reporting.events import UcapEvent
from ucap_shared import bounds
from ucap_shared.errors import ConflictError

MONGODB_MAX_BYTES = 16 * 1024 * 1024
CITY_COPY_BYTES = 19 * 1024
MOU_COPY_BYTES = 12 * 1024
MOUS_MARGIN = 2
"""MoUs past ``bounds.MOUS_PER_CITY`` that racing replicas of the mous service may allow."""
MOU_COPIES = bounds.MOUS_PER_CITY + MOUS_MARGIN
"""The lead's MoUs (a former lead's may linger after a racing lead change: not counted)."""
CITY_COPIES = 51
PILOT_COPY_BYTES = 28 * 1024
PILOT_COPIES = 500
"""Both as ``ucap_pilots.capacity`` bounds them (a service imports no other)."""

MAX_UCAP_BYTES = 256 * 1024


def size_of(ucap: Ucap | None) -> int:
    return len(ucap.model_dump_json().encode()) if ucap is not None else 0


def after(ucap: Ucap | None, events: Sequence[UcapEvent]) -> Ucap | None:
    state = ucap
    for event in events:
        state = evolve(state, event)
    return state


def check_growth(
    ucap: Ucap | None, events: Sequence[UcapEvent], limit: int = MAX_UCAP_BYTES
) -> None:
    """409 when ``events`` would make the U-CAP larger than ``limit`` bytes of JSON."""
    if not events:
        return
    before, grown = size_of(ucap), size_of(after(ucap, events))
    if grown > limit and grown > before:
        ucap_id = events[0].ucap_id
        raise ConflictError(
            f"U-CAP {ucap_id} would hold {grown} bytes, more than the {limit} a U-CAP may: "
            "remove activities or shorten its sections first",
            ucap_id=ucap_id,
            limit_bytes=limit,
        )
