"""The projections over the in-memory store: the status converges whatever the order.

The same projection code writes the live MongoDB views; here it runs on
``MemoryViews`` (as ``as_of`` does), so every arrival order can be tried fast.
"""

import itertools
from datetime import date

from tests.services.reporting.conftest import TOPICS, Streams
from ucap_reporting.projections import STATUS_VIEW, all_handlers
from ucap_reporting.projections.documents import OWN_TOPIC
from ucap_reporting.status import status_of
from ucap_reporting.store import MemoryViews
from ucap_shared.dispatch import dispatch
from ucap_shared.envelope import Envelope
from ucap_shared.topics import events_topic


def ucap_created(ucap_id: str, lead: str, counterparts: list[str]) -> Envelope:
    return Envelope(
        source="ucap/reporting",
        type="ucap.ucap.created.v1",
        subject=ucap_id,
        sequence=1,
        actor="test",
        data={
            "ucap_id": ucap_id,
            "title": "U-CAP",
            "lead_city_id": lead,
            "counterpart_city_ids": counterparts,
            "period": None,
            "themes": [{"title": "Smart City", "key_focus": ""}],
            "sdgs": [11],
            "urban_agenda_themes": [],
            "key_challenges": [],
            "main_objectives": [],
            "expected_results": None,
            "contact": None,
            "deliverables": [],
        },
    )


async def status_after(envelopes: list[Envelope], on: date) -> dict[str, object]:
    views = MemoryViews()
    by_topic = {h.topic: h for h in all_handlers(views)}
    for envelope in envelopes:
        kind = envelope.type.split(".")[1]
        topic = OWN_TOPIC if kind == "ucap" else events_topic(TOPICS[kind])
        await dispatch(by_topic[topic], envelope, group="test")
    document = await views.get(STATUS_VIEW, "u")
    assert document is not None
    status = status_of(document, on, [])
    assert status is not None
    return status.model_dump(mode="json")


def streams_in_order(groups: list[list[Envelope]]) -> list[Envelope]:
    return [envelope for group in groups for envelope in group]


class TestConvergence:
    async def test_every_arrival_order_of_the_sources_gives_the_same_status(self) -> None:
        s = Streams()
        ucap = [ucap_created("u", "granada", ["kunming", "haikou"])]
        cities = [
            s.city_registered("granada", "Granada", "ES", ["Smart City"]),
            s.city_registered("kunming", "Kunming"),
            s.city_renamed("kunming", "Kunming City"),
        ]
        mous = [
            s.mou_drafted("m1", ["granada", "kunming"], valid_until="2021-01"),
            s.mou_signed("m1", "granada", "2018-09"),
            s.mou_signed("m1", "kunming", "2018-09"),
            s.mou_drafted("m2", ["kunming", "haikou"]),
        ]
        pilots = [
            s.pilot_proposed("p1", "u", "granada", ["kunming"]),
            s.pilot_status("p1", "started", "in_progress", "2019-01"),
            s.milestone_added("p1", "ms1", "2020-09"),
            s.pilot_progress("p1", "up1", "2020-10-01", "kunming", "half way"),
            s.pilot_proposed("p2", "other", "granada", ["haikou"]),
        ]
        on = date(2020, 11, 15)
        results = [
            await status_after(streams_in_order(list(order)), on)
            for order in itertools.permutations([ucap, cities, mous, pilots])
        ]
        first = results[0]
        assert all(result == first for result in results)
        counterparts = first["counterparts"]
        assert isinstance(counterparts, list)
        kunming = counterparts[0]
        assert kunming["city"]["name"] == "Kunming City"
        assert [m["mou_id"] for m in kunming["mous"]] == ["m1"]
        assert kunming["mous"][0]["status"] == "in_force"
        assert kunming["mous"][0]["expires_soon"]
        (pilot,) = kunming["pilots"]
        assert pilot["iati_status"] == {"code": 2, "name": "Implementation"}
        assert pilot["milestone_counts"] == {"done": 0, "due": 0, "overdue": 1}
        assert counterparts[1]["pilots"] == []
        assert counterparts[1]["mous"] == []


class TestPilotMovingBetweenUcaps:
    async def test_a_pilot_moved_elsewhere_leaves_the_status(self) -> None:
        s = Streams()
        moved = Envelope(
            source="ucap/pilots",
            type="ucap.pilot.details_updated.v1",
            subject="p1",
            sequence=2,
            actor="test",
            data={"pilot_id": "p1", "ucap_id": "elsewhere"},
        )
        events = [
            ucap_created("u", "granada", ["kunming"]),
            s.pilot_proposed("p1", "u", "granada", ["kunming"]),
        ]
        before = await status_after(events, date(2020, 1, 1))
        after = await status_after([*events, moved], date(2020, 1, 1))
        assert before["figures"]["pilots"] == 1  # type: ignore[index]
        assert after["figures"]["pilots"] == 0  # type: ignore[index]
