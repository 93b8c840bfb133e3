"""No view document can pass MongoDB's 16 MiB: the largest pilot copy the limits allow,
measured as reporting stores it, times the pilots a U-CAP may hold, and the largest pilot
as its own view stores it; and the commands that would pass a limit are refused."""

import asyncio
import random
import string
from datetime import UTC, datetime

import bson
import pytest

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
from ucap_reporting.projections import PILOT_INDEX_VIEW
from ucap_reporting.projections.pilots import pilot_handlers
from ucap_reporting.store import MemoryViews
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import dispatch
from ucap_shared.envelope import Envelope
from ucap_shared.errors import ConflictError

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


def reporting_copy(events: list[PilotEvent]) -> bytes:
    """The pilot's copy in reporting, built by reporting's own projections, as BSON."""

    async def build() -> bytes:
        views = MemoryViews()
        handlers = pilot_handlers(views)
        for sequence, event in enumerate(events, start=1):
            envelope = Envelope(
                source="ucap/pilots",
                type=event.event_type,
                subject=event.pilot_id,
                sequence=sequence,
                data=event.model_dump(mode="json"),
                actor="test",
            )
            await dispatch(handlers, envelope, group="test")
        copy = await views.get(PILOT_INDEX_VIEW, events[0].pilot_id)
        assert copy is not None
        return bson.encode(copy)

    return asyncio.run(build())


class TestTheStatusDocumentStaysUnder16MiB:
    @pytest.mark.parametrize(("id_length", "mous"), [(1, 50), (60, 50), (100, 0)])
    def test_the_largest_copy_of_a_pilot_is_under_its_bound(
        self, id_length: int, mous: int
    ) -> None:
        events = filled(widest_events(id_length, mous))
        capacity.check_growth(None, fold(events))  # within every limit

        assert len(reporting_copy(events)) < COPY_BOUND

    def test_the_pilots_of_a_ucap_and_the_ucap_leave_room_for_its_cities_and_mous(self) -> None:
        pilots = capacity.MAX_PILOTS_PER_UCAP * COPY_BOUND
        applied = capacity.MAX_PILOTS_PER_UCAP * (len("pilot:") + 100 + 16)
        ucap = 3 * ucap_capacity.MAX_UCAP_BYTES

        assert pilots + applied + ucap < MONGODB_MAX - 1024 * 1024


class TestAPilotsOwnDocumentsStayUnder16MiB:
    def test_a_pilot_at_its_byte_limit_with_text_that_does_not_compress(self) -> None:
        texts = random.Random(7)
        pilot = fold([proposed("a", [])])
        summary_chars = 4000
        text = "".join(texts.choices(string.ascii_letters + string.digits, k=summary_chars))
        one = len(recorded(text, "u0000").model_dump_json().encode()) + 1
        updates = tuple(
            recorded("".join(texts.sample(text, len(text))), f"u{n:04d}")
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
