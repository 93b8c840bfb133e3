"""Every fact contract B adds to the status, projected from events of contract A's shapes.

The events are those the cities, MoUs and pilots services publish (organisations on the
cities topic, parties and signatures naming organisations, a signature of unknown date,
indicators and their values), run through the projections over ``MemoryViews``.
"""

import itertools
from datetime import date
from typing import Any

from tests.services.reporting.conftest import Streams
from tests.services.reporting.test_projections import status_after, ucap_created
from ucap_shared.envelope import Envelope

Json = dict[str, Any]


def activity_logged(sequence: int, activity_id: str, on: str, **fields: Any) -> Envelope:
    return Envelope(
        source="ucap/reporting",
        type="ucap.ucap.activity_logged.v1",
        subject="u",
        sequence=sequence,
        actor="test",
        data={
            "ucap_id": "u",
            "activity": {
                "activity_id": activity_id,
                "date": on,
                "kind": "meeting",
                "title": f"Meeting {activity_id}",
                **fields,
            },
        },
    )


def b2b_events(s: Streams) -> list[Envelope]:
    """A U-CAP of Barcelona and Chengdu with every kind of fact contract A adds."""
    return [
        ucap_created("u", "barcelona", ["chengdu"]),
        activity_logged(2, "a-held", "2019-06-09", end_date="2019-06-15"),
        activity_logged(3, "a-old", "2018-07"),  # an event of before statuses: held
        activity_logged(4, "a-planned", "2021-03", status="planned"),
        activity_logged(5, "a-cancelled", "2020-04", status="cancelled"),
        s.city_registered("barcelona", "Barcelona", "ES"),
        s.stakeholder_added("barcelona", "fira", "Fira de Barcelona"),
        s.city_registered("chengdu", "Chengdu"),
        s.stakeholder_added("chengdu", "tianfu", "Tianfu New District"),
        s.organisation_registered("biotech-fund", "UK-China Biotech Fund"),
        s.mou_drafted_between(
            "m1",
            [
                {"city_id": "barcelona", "organisation_id": "fira", "stakeholder_ids": []},
                {"city_id": "chengdu", "organisation_id": "tianfu", "stakeholder_ids": []},
                {"city_id": None, "organisation_id": "biotech-fund", "stakeholder_ids": []},
            ],
        ),
        s.mou_signed("m1", "barcelona", "2019-11-13", organisation="fira"),
        s.mou_signed("m1", "chengdu", None, organisation="tianfu"),
        s.mou_signed("m1", None, "2019-11-20", organisation="biotech-fund"),
        s.pilot_proposed(
            "p1",
            "u",
            "barcelona",
            ["chengdu"],
            description="A congress in Chengdu",
            stakeholder_ids=["fira", "biotech-fund"],
            sdg_targets=["11.3"],
            urban_agenda_themes=["Digital Transition"],
        ),
        s.indicator_added("p1", "participants"),
        s.pilot_progress("p1", "up1", "2020-08-01", "chengdu", "first", {"participants": 120}),
        s.pilot_progress("p1", "up2", "2020-07-01", "chengdu", "late report", {"participants": 5}),
    ]


async def b2b_status(city_kind: str | None = None) -> Json:
    s = Streams()
    events = b2b_events(s)
    if city_kind is not None:
        events.append(
            s.event("city", "barcelona", "profile_updated", {"kind": city_kind}),
        )
    status = await status_after(events, date(2020, 11, 15))
    return status


class TestCities:
    async def test_a_city_has_its_kind_and_its_stakeholders(self) -> None:
        status = await b2b_status(city_kind="metropolitan_authority")

        lead = status["lead_city"]
        assert lead["kind"] == "metropolitan_authority"
        assert lead["stakeholders"] == [
            {
                "stakeholder_id": "fira",
                "name": "Fira de Barcelona",
                "kind": "university",
                "website": None,
            }
        ]
        (chengdu,) = status["counterparts"]
        assert chengdu["city"]["kind"] == "city"  # registered without a kind: a city
        assert [x["stakeholder_id"] for x in chengdu["city"]["stakeholders"]] == ["tianfu"]

    async def test_the_organisations_a_mou_or_pilot_refers_to_are_listed(self) -> None:
        status = await b2b_status()

        assert status["organisations"] == [
            {
                "organisation_id": "biotech-fund",
                "name": "UK-China Biotech Fund",
                "native_name": None,
                "kind": "other",
                "scope": "international",
                "country": None,
                "website": "https://fund.example",
            }
        ]


class TestMous:
    async def test_parties_are_cities_organisations_of_cities_or_organisations(self) -> None:
        status = await b2b_status()

        (mou,) = status["counterparts"][0]["mous"]
        assert mou["subject"] == "Smart City Congress"
        assert mou["themes"] == ["Smart City"]
        assert mou["party_city_ids"] == ["barcelona", "chengdu"]
        assert [(p["city_id"], p["organisation_id"], p["name"]) for p in mou["parties"]] == [
            ("barcelona", "fira", "Fira de Barcelona"),
            ("chengdu", "tianfu", "Tianfu New District"),
            (None, "biotech-fund", "UK-China Biotech Fund"),
        ]

    async def test_a_signature_of_unknown_date_signs_but_leaves_the_date_unknown(self) -> None:
        status = await b2b_status()

        (mou,) = status["counterparts"][0]["mous"]
        assert [(x["organisation_id"], x["signed_on"]) for x in mou["signatures"]] == [
            ("fira", "2019-11-13"),
            ("tianfu", None),
            ("biotech-fund", "2019-11-20"),
        ]
        assert mou["signatures"][0]["place"] == "Brussels"
        assert mou["status"] == "in_force"
        assert mou["signed_on"] is None
        assert status["figures"]["mous_signed"] == 1


class TestPilots:
    async def test_a_pilot_has_its_details_and_indicators_with_their_latest_value(self) -> None:
        status = await b2b_status()

        (pilot,) = status["counterparts"][0]["pilots"]
        assert pilot["description"] == "A congress in Chengdu"
        assert pilot["partners"] == [
            {"city_id": "barcelona", "role": "lead"},
            {"city_id": "chengdu", "role": "partner"},
        ]
        assert pilot["stakeholder_ids"] == ["fira", "biotech-fund"]
        assert pilot["sdg_targets"] == ["11.3"]
        assert pilot["urban_agenda_themes"] == ["Digital Transition"]
        assert pilot["indicators"] == [
            {
                "indicator_id": "participants",
                "name": "Webinar participants",
                "unit": "people",
                "baseline": {"value": 0.0, "on": "2020-06"},
                "target": {"value": 300.0, "on": "2020-11"},
                # The latest by reported date, not the last reported.
                "latest": {"value": 120.0, "on": "2020-08-01"},
            }
        ]


class TestActivities:
    async def test_only_held_activities_count_and_planned_ones_are_counted_apart(self) -> None:
        status = await b2b_status()

        by_id = {a["activity_id"]: a for a in status["ucap"]["activities"]}
        assert by_id["a-held"]["status"] == "held"
        assert by_id["a-held"]["end_date"] == "2019-06-15"
        assert by_id["a-old"]["status"] == "held"
        assert by_id["a-old"]["end_date"] is None
        assert by_id["a-planned"]["status"] == "planned"
        assert status["figures"]["activities_per_year"] == {"2018": 1, "2019": 1}
        assert status["figures"]["activities_planned"] == 1


class TestAxis:
    async def test_a_status_says_which_time_axis_it_is_on(self) -> None:
        status = await b2b_status()

        assert status["axis"] == "live"


class TestOrganisationsInAnyOrder:
    async def test_an_organisation_reaches_the_status_whether_it_comes_before_or_after(
        self,
    ) -> None:
        s = Streams()
        ucap = [ucap_created("u", "barcelona", ["chengdu"])]
        organisation = [s.organisation_registered("fund", "The Fund")]
        mou = [
            s.mou_drafted_between(
                "m1",
                [
                    {"city_id": "barcelona", "organisation_id": None, "stakeholder_ids": []},
                    {"city_id": "chengdu", "organisation_id": None, "stakeholder_ids": []},
                    {"city_id": None, "organisation_id": "fund", "stakeholder_ids": []},
                ],
            )
        ]
        pilot = [s.pilot_proposed("p1", "u", "barcelona", ["chengdu"], stakeholder_ids=["fund"])]
        results: list[Json] = []
        for order in itertools.permutations([ucap, organisation, mou, pilot]):
            status = await status_after([e for group in order for e in group], date(2020, 1, 1))
            results.append(status)

        assert all(r == results[0] for r in results)
        assert [o["name"] for o in results[0]["organisations"]] == ["The Fund"]
        parties = results[0]["counterparts"][0]["mous"][0]["parties"]
        assert parties[2]["name"] == "The Fund"
