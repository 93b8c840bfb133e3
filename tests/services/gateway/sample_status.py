"""A reporting status that carries every field of contract B, and a programme of it.

The cooperation is made up for the test; it has what a real one can have: a lead that
is a combined authority, counterparts with native names and stakeholders, an
organisation of no one city, a B2B MoU, a signature of unknown date, activities
planned and over several days, pilot indicators.
"""

from typing import Any

Document = dict[str, Any]
UCAP_ID = "west-midlands-ucap"


def _city(city_id: str, name: str, native: str | None, kind: str, **more: Any) -> Document:
    return {
        "city_id": city_id,
        "registered": True,
        "name": name,
        "native_name": native,
        "kind": kind,
        "region": more.get("region"),
        "country": more.get("country"),
        "world_region": None,
        "population": (
            {"known": True, "value": more["population"], "year": 2019}
            if "population" in more
            else {"known": False, "value": None, "year": None}
        ),
        "area_km2": more.get("area"),
        "clusters": ["Smart City"],
        "stakeholders": more.get("stakeholders", []),
    }


LEAD = _city(
    "west-midlands",
    "West Midlands",
    None,
    "combined_authority",
    region="England",
    country="GB",
    population=2_900_000,
    area=902,
    stakeholders=[
        {
            "stakeholder_id": "wm-growth-company",
            "name": "West Midlands Growth Company",
            "kind": "agency",
            "website": "https://example.org/wmgc",
        }
    ],
)
GUANGZHOU = _city(
    "guangzhou",
    "Guangzhou",
    "广州",
    "city",
    region="Guangdong",
    country="CN",
    stakeholders=[
        {
            "stakeholder_id": "gz-biotech-park",
            "name": "Guangzhou International Bio Island",
            "kind": "science_or_health_park",
            "website": None,
        }
    ],
)
TIANFU = _city(
    "tianfu",
    "Tianfu New Area",
    "天府新区",
    "new_area",
    region="Sichuan",
    country="CN",
    stakeholders=[
        {
            "stakeholder_id": "tianfu-expo",
            "name": "Tianfu Expo Bureau",
            "kind": "agency",
            "website": None,
        }
    ],
)
FUND = {
    "organisation_id": "uk-china-biotech-fund",
    "name": "UK-China Biotech Fund",
    "native_name": "中英生物科技基金",
    "kind": "fund",
    "scope": "international",
    "country": None,
    "website": "https://example.org/fund",
}
EXPECTED_RESULTS = """The activities led to these pilot proposals:

Guangzhou:
- A joint biotech incubator on Bio Island.
- Exchanges of researchers between the two regions.

Tianfu New Area:
- A smart city showcase at the Smart City Congress in Chengdu."""


def _pilot() -> Document:
    return {
        "pilot_id": "wm-biotech-incubator",
        "title": "Joint biotech incubator",
        "description": "Start-ups of both regions share one incubator on Bio Island.",
        "lead_city_id": "west-midlands",
        "city_ids": ["west-midlands", "guangzhou"],
        "cluster": "Life Sciences",
        "themes": ["Life Sciences and Healthy City"],
        "sdg_goals": [3, 9],
        "sdg_targets": ["9.5"],
        "urban_agenda_themes": ["Jobs and skills in the local economy"],
        "partners": [
            {"city_id": "west-midlands", "role": "lead"},
            {"city_id": "guangzhou", "role": "co_lead"},
        ],
        "stakeholder_ids": ["gz-biotech-park", "uk-china-biotech-fund"],
        "indicators": [
            {
                "indicator_id": "start-ups",
                "name": "Start-ups incubated",
                "unit": "companies",
                "baseline": {"value": 4.0, "on": "2019"},
                "target": {"value": 24.0, "on": "2021"},
                "latest": {"value": 13.0, "on": "2020-06"},
            },
            {
                "indicator_id": "investment",
                "name": "Investment raised",
                "unit": "GBP",
                "baseline": {"value": 0.0, "on": "2019"},
                "target": {"value": 2500000.0, "on": "2021"},
                "latest": None,
            },
        ],
        "status": "in_progress",
        "status_on": "2019-09",
        "iati_status": {"code": 2, "name": "Implementation"},
        "last_update": {
            "update_id": "u1",
            "reported_on": "2020-06-30",
            "reporting_city_id": "guangzhou",
            "summary": "Nine companies moved in",
        },
        "updates_count": 1,
        "stale": False,
        "milestones": [
            {
                "milestone_id": "m-open",
                "title": "Incubator opens",
                "planned_on": "2019-11",
                "completed_on": "2019-12",
                "state": "done",
            },
            {
                "milestone_id": "m-second",
                "title": "Second cohort selected",
                "planned_on": "2021-03",
                "completed_on": None,
                "state": "due",
            },
        ],
        "milestone_counts": {"done": 1, "due": 1, "overdue": 0},
        "funding": [
            {
                "award_id": "a1",
                "funder": "IUC competitive fund",
                "category": "silver",
                "amount": "15000.00",
                "currency": "EUR",
                "awarded_on": "2019-10",
            }
        ],
    }


def _mous() -> tuple[Document, Document]:
    common = {
        "valid_from": None,
        "valid_until": None,
        "terminated_on": None,
        "expired_on": None,
        "expires_soon": False,
    }
    b2b: Document = {
        **common,
        "mou_id": "wm-expo-tianfu",
        "title": "West Midlands Growth Company – Tianfu Expo Bureau: Smart City Congress",
        "subject": "A joint stand at the Smart City Congress in Chengdu",
        "themes": ["Smart City and Digital Transition"],
        "party_city_ids": ["west-midlands", "tianfu"],
        "parties": [
            {
                "city_id": "west-midlands",
                "organisation_id": "wm-growth-company",
                "name": "West Midlands Growth Company",
                "stakeholder_ids": [],
            },
            {
                "city_id": "tianfu",
                "organisation_id": "tianfu-expo",
                "name": "Tianfu Expo Bureau",
                "stakeholder_ids": [],
            },
        ],
        "status": "in_force",
        "signed_on": "2019-06-12",
        "signatures": [
            {
                "city_id": "west-midlands",
                "organisation_id": "wm-growth-company",
                "signed_on": "2019-06-12",
                "place": "Chengdu",
                "signatory": "Head of trade",
                "occasion": "Smart City Congress",
            },
            {
                "city_id": "tianfu",
                "organisation_id": "tianfu-expo",
                "signed_on": "2019-06-12",
                "place": "Chengdu",
                "signatory": None,
                "occasion": None,
            },
        ],
    }
    fund: Document = {
        **common,
        "mou_id": "wm-gz-fund",
        "title": "Biotech fund agreement",
        "subject": "Co-investment in start-ups of the incubator",
        "themes": ["Life Sciences and Healthy City"],
        "party_city_ids": ["guangzhou"],
        "parties": [
            {
                "city_id": "guangzhou",
                "organisation_id": None,
                "name": "Guangzhou",
                "stakeholder_ids": [],
            },
            {
                "city_id": None,
                "organisation_id": "uk-china-biotech-fund",
                "name": "UK-China Biotech Fund",
                "stakeholder_ids": [],
            },
        ],
        "status": "draft",
        "signed_on": None,
        "signatures": [
            {
                "city_id": None,
                "organisation_id": "uk-china-biotech-fund",
                "signed_on": None,
                "place": "London",
                "signatory": None,
                "occasion": "Fund board meeting",
            }
        ],
    }
    return b2b, fund


def status(axis: str = "live", on: str = "2020-07-01") -> Document:
    pilot = _pilot()
    b2b, fund = _mous()
    return {
        "ucap_id": UCAP_ID,
        "on": on,
        "axis": axis,
        "ucap": {
            "ucap_id": UCAP_ID,
            "title": "West Midlands U-CAP: cooperation with Guangzhou and Tianfu",
            "lead_city_id": "west-midlands",
            "counterpart_city_ids": ["guangzhou", "tianfu"],
            "period": {"from": "2018-09", "until": "2021-06"},
            "themes": [
                {"title": "Life Sciences and Healthy City", "key_focus": "Biotech start-ups"},
                {"title": "Smart City and Digital Transition", "key_focus": "Trade fairs"},
            ],
            "sdgs": [3, 9, 11],
            "urban_agenda_themes": ["Digital Transition"],
            "key_challenges": ["Market entry for small biotech firms"],
            "main_objectives": ["Launch two pilots by 2020"],
            "expected_results": EXPECTED_RESULTS,
            "contact": "ucap@example.org",
            "deliverables": [{"title": "Final U-CAP", "date": "2020-05", "kind": "ucap"}],
            "activities": [
                {
                    "activity_id": "a1",
                    "date": "2018-09",
                    "end_date": None,
                    "status": "held",
                    "kind": "meeting",
                    "ordinal": 1,
                    "title": "Kick-off in Birmingham",
                    "outcome": "Themes agreed",
                },
                {
                    "activity_id": "a2",
                    "date": "2019-06-09",
                    "end_date": "2019-06-15",
                    "status": "held",
                    "kind": "mission",
                    "ordinal": None,
                    "title": "Mission to the Smart City Congress in Chengdu",
                    "outcome": None,
                },
                {
                    "activity_id": "a3",
                    "date": "2020-04",
                    "end_date": None,
                    "status": "cancelled",
                    "kind": "visit",
                    "ordinal": None,
                    "title": "Delegation visit to Guangzhou",
                    "outcome": None,
                },
                {
                    "activity_id": "a4",
                    "date": "2021-03",
                    "end_date": None,
                    "status": "planned",
                    "kind": "meeting",
                    "ordinal": None,
                    "title": "Closing conference",
                    "outcome": None,
                },
            ],
            "delivery_status": "final",
            "delivered_on": "2020-05",
            "finalised_on": "2020-05",
        },
        "lead_city": LEAD,
        "counterparts": [
            {"city": GUANGZHOU, "mous": [fund], "pilots": [pilot]},
            {"city": TIANFU, "mous": [b2b], "pilots": []},
        ],
        "other_pilots": [],
        "organisations": [FUND],
        "figures": {
            "pilots": 1,
            "pilots_by_status": {"in_progress": 1},
            "mous": 2,
            "mous_signed": 1,
            "activities_per_year": {"2018": 1, "2019": 1},
            "activities_planned": 1,
            "milestones": {"done": 1, "due": 1, "overdue": 0},
            "share_pilots_updated_90_days": 1.0,
        },
        "flags": {"overdue_milestones": [], "stale_pilots": [], "expiring_mous": []},
        "freshness": [
            {"topic": "ucap.pilots", "lag": 0, "last_event_time": "2020-06-30T10:00:00Z"}
        ],
        "applied": {},
    }


def programme() -> Document:
    row_status = status()
    counts = {
        "ucaps": 1,
        "pilots": 1,
        "pilots_by_status": {"in_progress": 1},
        "mous": 2,
        "mous_signed": 1,
        "overdue_milestones": 0,
        "stale_pilots": 0,
        "expiring_mous": 0,
    }
    return {
        "on": "2020-07-01",
        "filters": {"cluster": None, "theme": None, "sdg": None, "country": None},
        "totals": counts,
        "ucaps": [
            {
                "ucap_id": UCAP_ID,
                "title": row_status["ucap"]["title"],
                "lead_city_id": "west-midlands",
                "figures": row_status["figures"],
                "flags": row_status["flags"],
            }
        ],
        "by_cluster": [{"key": "Smart City", **counts}],
        "by_theme": [],
        "by_sdg": [],
        "by_country": [{"key": "GB", **counts}],
        "truncated": False,
        "freshness": [],
    }
