"""Conditions put together with their plain equalities at the top level."""

from ucap_shared.queries import all_of


def test_plain_equalities_go_to_the_top_level() -> None:
    assert all_of([{"ucap_id": "u"}, {"status": "in_progress"}]) == {
        "ucap_id": "u",
        "status": "in_progress",
    }


def test_operators_and_repeated_fields_stay_in_and() -> None:
    query = all_of(
        [
            {"city_ids": "granada"},
            {"_id": {"$gt": "p1"}},
            {"$or": [{"roles.granada": "lead"}, {"lead_city_id": "granada"}]},
            {"city_ids": "kunming"},
        ]
    )
    assert query == {
        "city_ids": "granada",
        "$and": [
            {"_id": {"$gt": "p1"}},
            {"$or": [{"roles.granada": "lead"}, {"lead_city_id": "granada"}]},
            {"city_ids": "kunming"},
        ],
    }


def test_no_conditions_is_every_document() -> None:
    assert all_of([]) == {}
