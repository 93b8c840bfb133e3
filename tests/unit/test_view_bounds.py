"""No view document can pass MongoDB's 16 MiB: the largest copies of a pilot, a city and
a MoU the limits allow, measured as reporting stores them, times how many a U-CAP's status
document may hold, and the largest status document built of them; the largest pilot as
its own view stores it; and the commands that would pass a limit are refused."""

import asyncio
import base64
import random
from collections.abc import Callable
from datetime import UTC, datetime

import bson
import pytest

from ucap_mous import capacity as mou_capacity
from ucap_pilots import capacity
from ucap_pilots.domain import Pilot, RecordedUpdate, evolve
from ucap_pilots.events import (
    FundingAward,
    FundingAwarded,
    Milestone,
    MilestoneAdded,
    PartnerCity,
    PilotDetailsUpdated,
    PilotEvent,
    PilotProposed,
    ProgressReported,
    ProgressUpdate,
    Role,
)
from ucap_pilots.views import pilot_document
from ucap_reporting import capacity as ucap_capacity
from ucap_reporting.projections import CITIES_VIEW, MOUS_VIEW, PILOT_INDEX_VIEW, STATUS_VIEW
from ucap_reporting.projections.cities import city_handlers
from ucap_reporting.projections.documents import with_facets
from ucap_reporting.projections.mous import mou_handlers
from ucap_reporting.projections.pilots import pilot_handlers
from ucap_reporting.store import MemoryViews
from ucap_shared import bounds
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import Handlers, dispatch
from ucap_shared.envelope import Envelope
from ucap_shared.errors import ConflictError
from ucap_shared.views import APPLIED, REVISION, Document, packed

MONGODB_MAX = 16 * 1024 * 1024
COPY_BOUND = 28 * 1024
"""What ``ucap_pilots.capacity`` argues one copy in a status document stays under."""
WIDE = "\U0001d11e"  # four bytes in UTF-8, and JSON keeps it as they are
AT = datetime(2020, 1, 1, tzinfo=UTC)


def slug(n: int, length: int) -> str:
    """A distinct id of exactly ``length`` characters."""
    return f"{n}-".rjust(length, "a")[:length] if length > 3 else str(n)


def proposed(lead: str, partners: list[str], **fields: object) -> PilotProposed:
    values: dict[str, object] = {
        "pilot_id": f"{lead}-p",
        "title": "t",
        "description": "",
        "lead_city_id": lead,
        "partners": (
            PartnerCity(city_id=lead, role=Role.LEAD),
            *(PartnerCity(city_id=c, role=Role.FUNDING) for c in partners),
        ),
        "stakeholder_ids": (),
        "cluster": None,
        "themes": (),
        "sdg_goals": (),
        "sdg_targets": (),
        "urban_agenda_themes": (),
        "mou_ids": (),
        "ucap_id": None,
        **fields,
    }
    return PilotProposed.model_validate(values)


def widest_events(id_length: int, mous: int = 50) -> list[PilotEvent]:
    """A pilot at every count limit (but ``mous``), with ids ``id_length`` long and
    one-character texts: the most values (each costing BSON more than JSON) for its bytes."""
    lead = slug(0, id_length)
    partners = [slug(n, id_length) for n in range(1, 51)]
    events: list[PilotEvent] = [
        proposed(
            lead,
            partners,
            themes=tuple(str(n) for n in range(20)),
            sdg_goals=tuple(range(1, 18)),
            mou_ids=tuple(slug(n, id_length) for n in range(mous)),
        )
    ]
    pilot_id = events[0].pilot_id
    events += [
        PilotDetailsUpdated(pilot_id=pilot_id, ucap_id=slug(n, id_length))
        for n in range(capacity.MAX_UCAPS_NAMED)
    ]
    events += [
        MilestoneAdded(
            pilot_id=pilot_id,
            milestone=Milestone(
                milestone_id=str(n), title="m", planned_on=PartialDate.parse("2020-01-01")
            ),
        )
        for n in range(capacity.MAX_MILESTONES)
    ]
    events += [
        FundingAwarded(
            pilot_id=pilot_id,
            award=FundingAward(
                award_id=str(n),
                funder="f",
                category="c",
                amount="1",
                currency="EUR",
                awarded_on=PartialDate.parse("2020-01-01"),
            ),
        )
        for n in range(capacity.MAX_AWARDS)
    ]
    return events


def filled(events: list[PilotEvent]) -> list[PilotEvent]:
    """``events`` and an update whose summary fills the copied part up to its limit."""
    pilot = fold(events)
    room = capacity.MAX_COPIED_BYTES - capacity.copied_bytes(pilot) - 400
    summary = WIDE * (room // 4)
    update = update_of(summary, "u" * 28, pilot.lead_city_id)
    result = [*events, ProgressReported(pilot_id=pilot.pilot_id, update=update)]
    assert capacity.copied_bytes(fold(result)) <= capacity.MAX_COPIED_BYTES
    return result


def update_of(summary: str, update_id: str = "u", city: str = "a") -> ProgressUpdate:
    return ProgressUpdate(
        update_id=update_id,
        reported_on=PartialDate.parse("2020-01-01"),
        reporting_city_id=city,
        summary=summary,
        indicator_values=(),
        milestone_id=None,
        attachments=(),
    )


def recorded(summary: str, update_id: str = "u") -> RecordedUpdate:
    return RecordedUpdate(**update_of(summary, update_id).model_dump(), recorded_at=AT)


def fold(events: list[PilotEvent]) -> Pilot:
    state: Pilot | None = None
    for event in events:
        state = evolve(state, event, AT)
    assert state is not None
    return state


def projected(
    make: Callable[[MemoryViews], Handlers], source: str, data: list[dict[str, object]]
) -> Document:
    """The copy reporting's own projections make of one aggregate's events (``data``,
    each with its ``event_type``), as the status document holds it (without ``_id``)."""

    async def build() -> Document:
        views = MemoryViews()
        handlers = make(views)
        subject = str(data[0]["id"])
        for sequence, values in enumerate(data, start=1):
            fields = {k: v for k, v in values.items() if k not in {"id", "event_type"}}
            envelope = Envelope(
                source=f"ucap/{source}",
                type=str(values["event_type"]),
                subject=subject,
                sequence=sequence,
                data=fields,
                actor="test",
            )
            await dispatch(handlers, envelope, group="test")
        copy = await views.get(VIEW_OF[source], subject)
        assert copy is not None
        return {k: v for k, v in copy.items() if k != "_id"}

    return asyncio.run(build())


VIEW_OF = {"pilots": PILOT_INDEX_VIEW, "cities": CITIES_VIEW, "mous": MOUS_VIEW}


def pilot_copy(events: list[PilotEvent]) -> Document:
    data = [
        {"id": e.pilot_id, "event_type": e.event_type, **e.model_dump(mode="json")} for e in events
    ]
    return projected(pilot_handlers, "pilots", data)


def reporting_copy(events: list[PilotEvent]) -> bytes:
    """The pilot's copy in reporting, built by reporting's own projections, as BSON."""
    return bson.encode(pilot_copy(events))


CITY_ID_CHARS = 63
"""A city's id is a slug of at most 63 characters (the cities service's pattern)."""


def wide(n: int, length: int) -> str:
    """A distinct text of ``length`` four-byte characters."""
    return f"{n}".rjust(length, WIDE)


def largest_city(n: int) -> Document:
    """The largest copy of a city: every text at its bound in four-byte characters."""
    city_id = slug(n, CITY_ID_CHARS)
    registered = {
        "id": city_id,
        "event_type": "ucap.city.registered.v1",
        "city_id": city_id,
        "name": wide(n, bounds.NAME_CHARS),
        "native_name": wide(n, bounds.NAME_CHARS),
        "region": wide(n, bounds.NAME_CHARS),
        "country": "ES",
        "world_region": "Latin America and the Caribbean",
        "population": {"known": True, "value": 2**62, "year": 2020},
        "area_km2": 1.5e9,
        "clusters": [
            wide(n * bounds.THEMES_PER_LIST + c, bounds.NAME_CHARS)
            for c in range(bounds.THEMES_PER_LIST)
        ],
    }
    return projected(city_handlers, "cities", [registered])


def largest_mou(n: int) -> Document:
    """The largest copy of a MoU: a title at its bound, every party it may have, each
    signed, and every date set (its themes, which reporting does not copy, at theirs)."""
    mou_id = slug(n, bounds.ID_CHARS)
    parties = [slug(p, CITY_ID_CHARS) for p in range(mou_capacity.MAX_PARTIES)]
    drafted: dict[str, object] = {
        "id": mou_id,
        "event_type": "ucap.mou.drafted.v1",
        "mou_id": mou_id,
        "title": wide(n, bounds.TITLE_CHARS),
        "subject": "s",
        "parties": [{"city_id": city, "stakeholder_ids": []} for city in parties],
        "themes": [wide(t, bounds.NAME_CHARS) for t in range(bounds.THEMES_PER_LIST)],
        "valid_from": "2020-01-01",
        "valid_until": "2030-12-31",
        "documents": [],
    }
    signed: list[dict[str, object]] = [
        {
            "id": mou_id,
            "event_type": "ucap.mou.signed.v1",
            "mou_id": mou_id,
            "city_id": city,
            "signed_on": "2020-01-01",
            "place": None,
            "signatory": None,
            "occasion": None,
        }
        for city in parties
    ]
    ended: list[dict[str, object]] = [
        {
            "id": mou_id,
            "event_type": "ucap.mou.terminated.v1",
            "mou_id": mou_id,
            "terminated_on": "2021-01-01",
            "reason": "r",
        },
        {
            "id": mou_id,
            "event_type": "ucap.mou.expired.v1",
            "mou_id": mou_id,
            "expired_on": "2030-12-31",
        },
    ]
    return projected(mou_handlers, "mous", [drafted, *signed, *ended])


OWN_FIELDS = 48 * 1024
"""A status document's id, revision and facets but ``f_clusters`` (at most 20 theme titles
of 200 four-byte characters, 17 SDGs, 51 countries) and its packing: under 48 KiB."""
UCAP_ID = slug(0, bounds.ID_CHARS)


def applied_entry(kind: str, id_chars: int) -> int:
    """An entry of ``_applied``: its key (``kind:`` and an id), a type byte, a NUL, an int64."""
    return len(f"{kind}:") + id_chars + 16


def largest_pilots(lead: str) -> list[Document]:
    """As many pilot copies as a U-CAP may hold, each the largest the limits allow (and a
    cluster of 200 four-byte characters on top), all counted in the U-CAP's facets."""
    first = widest_events(bounds.ID_CHARS, 0)
    events = filled(
        [first[0].model_copy(update={"cluster": wide(0, bounds.NAME_CHARS)}), *first[1:]]
    )
    copy = pilot_copy(events)
    return [
        {
            **copy,
            "pilot_id": slug(n, len(copy["pilot_id"])),
            "cluster": wide(100_000 + n, bounds.NAME_CHARS),
            "ucap_id": UCAP_ID,
            "lead_city_id": lead,
        }
        for n in range(capacity.MAX_PILOTS_PER_UCAP)
    ]


def largest_ucap(cities: list[str]) -> Document:
    """A U-CAP as large as its bound allows as BSON (its title padded to it)."""
    ucap: Document = {
        "ucap_id": UCAP_ID,
        "title": "",
        "lead_city_id": cities[0],
        "counterpart_city_ids": cities[1:],
        "themes": [
            {"title": wide(t, bounds.NAME_CHARS), "key_focus": ""}
            for t in range(bounds.THEMES_PER_LIST)
        ],
        "sdgs": list(range(1, 18)),
    }
    room = 3 * ucap_capacity.MAX_UCAP_BYTES - len(bson.encode(ucap))
    return {**ucap, "title": "x" * room}


def largest_status() -> Document:
    """The largest status document the limits allow, as MongoDB would store it."""
    cities = [largest_city(n) for n in range(ucap_capacity.CITY_COPIES)]
    mous = [largest_mou(n) for n in range(ucap_capacity.MOU_COPIES)]
    ucap = largest_ucap([city["city_id"] for city in cities])
    pilots = largest_pilots(ucap["lead_city_id"])
    streams = [
        *(f"city:{c['city_id']}" for c in cities),
        *(f"mou:{m['mou_id']}" for m in mous),
        *(f"pilot:{p['pilot_id']}" for p in pilots),
        f"ucap:{UCAP_ID}",
    ]
    document = with_facets(
        {
            "ucap_id": UCAP_ID,
            "ucap": ucap,
            "cities": cities,
            "mous": mous,
            "pilots": pilots,
        }
    )
    assert len(document["f_clusters"]) == 20 * len(cities) + len(pilots)
    stored = {"_id": UCAP_ID, **document, APPLIED: dict.fromkeys(streams, 2**40), REVISION: 2**40}
    return packed(STATUS_VIEW, stored)


class TestTheStatusDocumentStaysUnder16MiB:
    @pytest.mark.parametrize(("id_length", "mous"), [(1, 50), (60, 50), (100, 0)])
    def test_the_largest_copy_of_a_pilot_is_under_its_bound(
        self, id_length: int, mous: int
    ) -> None:
        events = filled(widest_events(id_length, mous))
        capacity.check_growth(None, fold(events))  # within every limit

        assert len(reporting_copy(events)) < COPY_BOUND

    def test_the_largest_copy_of_a_city_is_under_its_bound(self) -> None:
        assert len(bson.encode(largest_city(0))) < ucap_capacity.CITY_COPY_BYTES

    def test_the_largest_copy_of_a_mou_is_under_its_bound(self) -> None:
        assert len(bson.encode(largest_mou(0))) < ucap_capacity.MOU_COPY_BYTES

    def test_reporting_budgets_the_limits_the_other_services_hold(self) -> None:
        assert ucap_capacity.PILOT_COPY_BYTES == COPY_BOUND
        assert ucap_capacity.PILOT_COPIES == capacity.MAX_PILOTS_PER_UCAP
        assert ucap_capacity.CITY_COPIES == 1 + bounds.ITEMS_PER_LIST
        assert ucap_capacity.MOU_COPIES > mou_capacity.MOUS_PER_CITY

    def test_the_copies_and_the_ucap_at_their_bounds_leave_room_for_the_rest(self) -> None:
        c = ucap_capacity
        pilots = c.PILOT_COPIES * (c.PILOT_COPY_BYTES + applied_entry("pilot", bounds.ID_CHARS))
        cities = c.CITY_COPIES * (c.CITY_COPY_BYTES + applied_entry("city", CITY_ID_CHARS))
        mous = c.MOU_COPIES * (c.MOU_COPY_BYTES + applied_entry("mou", bounds.ID_CHARS))
        ucap = 3 * c.MAX_UCAP_BYTES

        assert pilots + cities + mous + ucap < MONGODB_MAX - OWN_FIELDS

    def test_the_largest_status_document_is_under_16_mib(self) -> None:
        assert len(bson.encode(largest_status())) < MONGODB_MAX


class TestAPilotsOwnDocumentsStayUnder16MiB:
    def test_a_pilot_at_its_byte_limit_with_text_that_does_not_compress(self) -> None:
        noise = random.Random(7)
        pilot = fold([proposed("a", [])])

        def incompressible(chars: int) -> str:
            return base64.b64encode(noise.randbytes(chars * 3 // 4)).decode()

        one = len(recorded(incompressible(4000), "u0000").model_dump_json().encode()) + 1
        updates = tuple(
            recorded(incompressible(4000), f"u{n:04d}")
            for n in range((capacity.MAX_PILOT_BYTES - 4096) // one)
        )
        big = pilot.model_copy(update={"updates": updates})
        assert capacity.pilot_bytes(big) <= capacity.MAX_PILOT_BYTES

        assert len(bson.encode(pilot_document(big))) < MONGODB_MAX
        assert len(bson.encode({"state": big.model_dump_json()})) < MONGODB_MAX


class TestCommandsPastALimitAreRefused:
    def test_a_milestone_past_the_most_a_pilot_holds(self) -> None:
        events = widest_events(1)
        before = fold(events)
        more = MilestoneAdded(
            pilot_id=before.pilot_id,
            milestone=Milestone(milestone_id="x", title="m", planned_on=PartialDate.parse("2020")),
        )
        with pytest.raises(ConflictError, match="51 milestones: a pilot holds at most 50"):
            capacity.check_growth(before, evolve(before, more, AT))

    def test_a_progress_update_past_the_most_a_pilot_holds(self) -> None:
        pilot = fold([proposed("a", [])])
        update = recorded("s")
        full = pilot.model_copy(update={"updates": (update,) * capacity.MAX_UPDATES})
        capacity.check_growth(pilot, full)
        with pytest.raises(ConflictError, match="progress updates"):
            capacity.check_growth(
                full, full.model_copy(update={"updates": (*full.updates, update)})
            )

    def test_an_update_too_large_to_copy_into_the_status(self) -> None:
        pilot = fold([proposed("a", [])])
        wide = update_of(WIDE * 5000)
        with pytest.raises(ConflictError, match="profile and latest update"):
            capacity.check_growth(
                pilot, evolve(pilot, ProgressReported(pilot_id=pilot.pilot_id, update=wide), AT)
            )

    def test_what_leaves_a_pilot_over_a_limit_no_larger_passes(self) -> None:
        pilot = fold([proposed("a", [])])
        update = recorded("s")
        over = pilot.model_copy(update={"updates": (update,) * (capacity.MAX_UPDATES + 5)})
        capacity.check_growth(over, over.model_copy(update={"title": "renamed"}))

    def test_a_ucap_full_of_pilots_takes_no_more(self) -> None:
        capacity.check_ucap_room("a-p", "u", capacity.MAX_PILOTS_PER_UCAP - 1)
        with pytest.raises(ConflictError, match="the most one U-CAP holds"):
            capacity.check_ucap_room("a-p", "u", capacity.MAX_PILOTS_PER_UCAP)
