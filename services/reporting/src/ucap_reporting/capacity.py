"""How large a U-CAP may grow, refused at the command that would pass it (409).

MongoDB refuses a document over 16 MiB. A U-CAP's state is written whole three times
over: its snapshot (one JSON string), its ``ucaps_view`` document and the ``ucap`` field
of its status document. Its timeline (activities) and deliverables grow with every
command, so the state, as JSON, is held to ``MAX_UCAP_BYTES``: a command whose result
would be larger, and larger than before, is refused before anything is appended. BSON
spends at most 8 bytes more per value than JSON (a type byte, an array index, a length),
and the smallest value a U-CAP holds many of takes 4 bytes of JSON (``"a",`` in a list of
an activity's places or cities), so no copy of it passes three times that: 0.75 MiB.

The status document's budget (16 MiB): its U-CAP (at most 0.75 MiB, above), its pilot
copies (at most 500 of under 28 KiB each: see ``ucap_pilots.capacity``, 13.7 MiB, and
their 60 kB of stream positions), and the copies of its cities and MoUs (the 1.5 MiB
left; the MoUs of one city are not bounded yet).
"""

from collections.abc import Sequence

from ucap_reporting.domain import Ucap, evolve
from ucap_reporting.events import UcapEvent
from ucap_shared.errors import ConflictError

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
