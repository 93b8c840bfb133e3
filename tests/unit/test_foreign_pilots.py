"""A pilot whose lead city is neither a U-CAP's lead nor a counterpart is no pilot of it:
reporting's status leaves it out, with its flags, and the gateway its details."""

from datetime import date
from typing import Any

from ucap_gateway.compose import led_from
from ucap_reporting.projections import relevant_pilot
from ucap_reporting.projections.documents import empty_status, with_facets
from ucap_reporting.status import status_of

UCAP: dict[str, Any] = {
    "ucap_id": "granada-ucap",
    "title": "Granada U-CAP",
    "lead_city_id": "granada",
    "counterpart_city_ids": ["kunming"],
    "period": None,
    "themes": [],
    "sdgs": [],
    "urban_agenda_themes": [],
    "key_challenges": [],
    "main_objectives": [],
    "expected_results": None,
    "contact": None,
    "deliverables": [],
}


def pilot_copy(pilot_id: str, lead: str, ucap_id: str = "granada-ucap") -> dict[str, Any]:
    return {
        "pilot_id": pilot_id,
        "seq": 3,
        "title": pilot_id,
        "lead_city_id": lead,
        "partners": [],
        "city_ids": [lead, "kunming"],
        "cluster": f"cluster of {lead}",
        "themes": [],
        "sdg_goals": [7],
        "mou_ids": [],
        "ucap_id": ucap_id,
        "ucap_ids_seen": [ucap_id],
        "status": "in_progress",
        "status_on": None,
        "milestones": [
            {"milestone_id": "m", "title": "M", "planned_on": "2000-01", "completed_on": None}
        ],
        "funding": [],
        "last_update": None,
        "updates_count": 0,
    }


def document(*pilots: dict[str, Any]) -> dict[str, Any]:
    return with_facets({**empty_status("granada-ucap"), "ucap": UCAP, "pilots": list(pilots)})


class TestRelevantPilot:
    def test_a_pilot_led_by_the_lead_or_a_counterpart_belongs(self) -> None:
        assert relevant_pilot(UCAP, pilot_copy("granada-p", "granada"))
        assert relevant_pilot(UCAP, pilot_copy("kunming-p", "kunming"))

    def test_a_pilot_led_by_another_city_or_of_another_ucap_does_not(self) -> None:
        assert not relevant_pilot(UCAP, pilot_copy("barcelona-p", "barcelona"))
        assert not relevant_pilot(UCAP, pilot_copy("granada-p", "granada", "other-ucap"))


class TestTheStatus:
    def test_leaves_a_foreign_pilot_out_of_groups_figures_flags_and_facets(self) -> None:
        doc = document(pilot_copy("barcelona-p", "barcelona"), pilot_copy("granada-p", "granada"))

        status = status_of(doc, date(2026, 1, 1), [])

        assert status is not None
        shown = [p.pilot_id for c in status.counterparts for p in c.pilots]
        assert shown + [p.pilot_id for p in status.other_pilots] == ["granada-p"]
        assert status.figures.pilots == 1
        assert status.figures.milestones.overdue == 1
        assert [m.pilot_id for m in status.flags.overdue_milestones] == ["granada-p"]
        assert doc["f_clusters"] == ["cluster of granada"]


class TestTheGatewaysDetails:
    def test_keep_only_pilots_led_by_a_city_of_the_ucap(self) -> None:
        pilots = {
            "granada-p": {"id": "granada-p", "lead_city_id": "granada"},
            "barcelona-p": {"id": "barcelona-p", "lead_city_id": "barcelona"},
        }
        assert list(led_from(pilots, ["granada", "kunming"])) == ["granada-p"]
