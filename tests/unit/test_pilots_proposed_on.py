"""A pilot's proposal may carry the day the partners date it: the day the cooperation's
own time (``as_of``) counts the pilot from."""

from datetime import UTC, datetime

from ucap_pilots import domain
from ucap_pilots.events import PilotProposed
from ucap_pilots.schemas.pilots import ProposePilotRequest
from ucap_shared.dates import PartialDate

AT = datetime(2026, 12, 6, tzinfo=UTC)
BODY = {"id": "granada-blocklab", "title": "BlockLab", "lead_city_id": "granada"}


class TestTheDayAProposalCarries:
    def test_the_request_s_day_goes_into_the_event_and_the_state(self) -> None:
        event = ProposePilotRequest.model_validate({**BODY, "proposed_on": "2020-05"}).command()

        assert event.proposed_on == PartialDate.parse("2020-05")
        assert domain.evolve(None, event, AT).proposed_on == PartialDate.parse("2020-05")
        assert event.model_dump(mode="json")["proposed_on"] == "2020-05"

    def test_without_one_it_is_null(self) -> None:
        event = ProposePilotRequest.model_validate(BODY).command()

        assert event.proposed_on is None

    def test_an_event_from_before_the_field_reads_as_null(self) -> None:
        old = {
            "pilot_id": "granada-blocklab",
            "title": "BlockLab",
            "description": "",
            "lead_city_id": "granada",
            "partners": [{"city_id": "granada", "role": "lead"}],
            "stakeholder_ids": [],
            "cluster": None,
            "themes": [],
            "sdg_goals": [],
            "sdg_targets": [],
            "urban_agenda_themes": [],
            "mou_ids": [],
            "ucap_id": None,
        }

        assert PilotProposed.model_validate(old).proposed_on is None
