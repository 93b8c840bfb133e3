"""A draft may carry the day its parties date it: the day the cooperation's own time
(``as_of``) counts the MoU from."""

from ucap_mous import domain
from ucap_mous.api import MouOut
from ucap_mous.events import MouDrafted
from ucap_mous.schemas import DraftMouRequest
from ucap_shared.dates import PartialDate

BODY = {
    "id": "granada-zhengzhou-2018",
    "title": "MoU between Granada and Zhengzhou",
    "subject": "Smart city cooperation",
    "parties": [{"city_id": "granada"}, {"city_id": "zhengzhou"}],
}


class TestTheDayADraftCarries:
    def test_the_request_s_day_goes_into_the_event_the_state_and_the_answer(self) -> None:
        event = DraftMouRequest.model_validate({**BODY, "drafted_on": "2018-06"}).command()
        state = domain.evolve(None, event)

        assert event.drafted_on == PartialDate.parse("2018-06")
        assert event.model_dump(mode="json")["drafted_on"] == "2018-06"
        assert state.drafted_on == PartialDate.parse("2018-06")
        assert MouOut.of(state).model_dump(mode="json")["drafted_on"] == "2018-06"

    def test_without_one_it_is_null(self) -> None:
        event = DraftMouRequest.model_validate(BODY).command()

        assert event.drafted_on is None
        assert domain.evolve(None, event).drafted_on is None

    def test_an_event_from_before_the_field_reads_as_null(self) -> None:
        old = {
            "mou_id": "granada-zhengzhou-2018",
            "title": "MoU",
            "subject": "s",
            "parties": [{"city_id": "granada"}, {"city_id": "zhengzhou"}],
            "themes": [],
            "valid_from": None,
            "valid_until": None,
            "documents": [],
        }

        assert MouDrafted.model_validate(old).drafted_on is None
