"""A U-CAP's status document holds copies of its lead's MoUs only, whatever the order.

A MoU concerns a U-CAP only when the lead is a party (``relevant_mou``), so copying
every MoU of every counterpart would only grow the document; the lead's MoUs are
bounded by the mous service (``MOUS_PER_CITY``).
"""

import itertools

from tests.services.reporting.conftest import Streams
from tests.services.reporting.test_projections import ucap_created
from ucap_reporting.projections import STATUS_VIEW, all_handlers
from ucap_reporting.store import MemoryViews
from ucap_shared.dispatch import dispatch
from ucap_shared.envelope import Envelope


def party_added(streams: Streams, mou: str, city: str) -> Envelope:
    return streams.event(
        "mou", mou, "party_added", {"party": {"city_id": city, "stakeholder_ids": []}}
    )


def lead_changed(ucap_id: str, sequence: int, lead: str, counterparts: list[str]) -> Envelope:
    empty = dict.fromkeys(
        (
            "title",
            "period",
            "themes",
            "sdgs",
            "urban_agenda_themes",
            "key_challenges",
            "main_objectives",
            "expected_results",
            "contact",
            "deliverables",
        )
    )
    return Envelope(
        source="ucap/reporting",
        type="ucap.ucap.section_updated.v1",
        subject=ucap_id,
        sequence=sequence,
        actor="test",
        data={
            **empty,
            "ucap_id": ucap_id,
            "section": "cities",
            "lead_city_id": lead,
            "counterpart_city_ids": counterparts,
        },
    )


async def copied_mous(envelopes: list[Envelope]) -> list[str]:
    """The ids of the MoU copies in U-CAP ``u``'s status document."""
    views = MemoryViews()
    by_prefix = {h.type_prefix: h for h in all_handlers(views)}
    for envelope in envelopes:
        prefix = ".".join(envelope.type.split(".")[:2]) + "."
        await dispatch(by_prefix[prefix], envelope, group="test")
    document = await views.get(STATUS_VIEW, "u")
    assert document is not None
    return [mou["mou_id"] for mou in document["mous"]]


def every_order(*streams: list[Envelope]) -> list[list[Envelope]]:
    return [
        [envelope for stream in order for envelope in stream]
        for order in itertools.permutations(streams)
    ]


class TestTheStatusDocumentCopiesTheLeadsMousOnly:
    async def test_a_mou_between_two_counterparts_is_not_copied(self) -> None:
        s = Streams()
        ucap = [ucap_created("u", "granada", ["kunming", "haikou"])]
        mous = [
            s.mou_drafted("between-counterparts", ["kunming", "haikou"]),
            s.mou_drafted("with-the-lead", ["granada", "kunming"]),
        ]

        for envelopes in every_order(ucap, mous):
            assert await copied_mous(envelopes) == ["with-the-lead"]

    async def test_a_mou_that_gains_the_lead_as_a_party_is_pushed(self) -> None:
        s = Streams()
        ucap = [ucap_created("u", "granada", ["kunming", "haikou"])]
        drafted = s.mou_drafted("joined", ["kunming", "haikou"])
        joined = party_added(s, "joined", "granada")

        assert await copied_mous([*ucap, drafted]) == []
        for envelopes in every_order(ucap, [drafted, joined]):
            assert await copied_mous(envelopes) == ["joined"]


class TestANewLead:
    async def test_brings_its_mous_and_drops_the_former_leads(self) -> None:
        s = Streams()
        ucap = [
            ucap_created("u", "granada", ["kunming", "haikou"]),
            lead_changed("u", 2, "seville", ["kunming", "haikou"]),
        ]
        mous = [
            s.mou_drafted("granadas", ["granada", "kunming"]),
            s.mou_drafted("sevilles", ["seville", "haikou"]),
        ]

        for envelopes in every_order(ucap, mous):
            assert await copied_mous(envelopes) == ["sevilles"]

    async def test_a_mou_of_the_former_lead_arriving_later_is_not_copied(self) -> None:
        s = Streams()
        ucap = [
            ucap_created("u", "granada", ["kunming"]),
            lead_changed("u", 2, "seville", ["kunming"]),
        ]

        assert await copied_mous([*ucap, s.mou_drafted("late", ["granada", "kunming"])]) == []
