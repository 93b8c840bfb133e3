"""What a status document holds of each source stream: the events applied to it and the
copies it pulled, so that a status says the same whether a copy came pulled or pushed."""

from ucap_reporting.projections import held_sequences
from ucap_shared.views import APPLIED


def status(applied: dict[str, int], **sections: list[dict[str, object]]) -> dict[str, object]:
    return {"_id": "u", APPLIED: applied, **sections}


class TestHeldSequences:
    def test_a_copy_pulled_at_creation_counts_though_no_event_of_it_was_applied(self) -> None:
        pulled = status({"ucap:u": 1}, cities=[{"city_id": "lead", "seq": 1}])

        assert held_sequences(pulled) == {"ucap:u": 1, "city:lead": 1}

    def test_pulled_then_its_event_replayed_says_the_same_as_pulled_alone(self) -> None:
        pulled = status({"ucap:u": 1}, cities=[{"city_id": "lead", "seq": 1}])
        replayed = status({"ucap:u": 1, "city:lead": 1}, cities=[{"city_id": "lead", "seq": 1}])

        assert held_sequences(pulled) == held_sequences(replayed)

    def test_each_section_counts_under_its_own_kind_and_the_later_of_both_wins(self) -> None:
        document = status(
            {"ucap:u": 4, "mou:m": 5, "pilot:p": 1},
            mous=[{"mou_id": "m", "seq": 3}],
            pilots=[{"pilot_id": "p", "seq": 2}],
            organisations=[{"organisation_id": "o", "seq": 7}],
        )

        assert held_sequences(document) == {
            "ucap:u": 4,
            "mou:m": 5,
            "pilot:p": 2,
            "organisation:o": 7,
        }

    def test_a_copy_that_holds_no_event_yet_is_not_counted(self) -> None:
        document = status({"ucap:u": 1}, cities=[{"city_id": "later", "seq": 0}])

        assert held_sequences(document) == {"ucap:u": 1}
