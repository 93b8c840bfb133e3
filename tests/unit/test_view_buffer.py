"""The rebuild's in-memory views: the live views' guard, revisions and searches."""

import pytest

from ucap_shared.view_buffer import ViewBuffer
from ucap_shared.views import APPLIED, REVISION, Document, Outcome, Projection, StreamGap


def tag(value: str) -> Projection:
    def project(current: Document | None) -> Document:
        return {**(current or {}), "tags": [*(current or {}).get("tags", []), value]}

    return project


def test_each_change_is_one_revision_and_a_duplicate_changes_nothing() -> None:
    buffer = ViewBuffer()
    assert buffer.apply("v", "a", stream="s", sequence=1, project=tag("x")) is Outcome.APPLIED
    assert buffer.apply("v", "a", stream="s", sequence=2, project=tag("y")) is Outcome.APPLIED
    assert buffer.apply("v", "a", stream="s", sequence=2, project=tag("z")) is Outcome.DUPLICATE

    assert buffer.get("v", "a") == {"_id": "a", "tags": ["x", "y"]}
    written = buffer._views["v"]["a"]
    assert written[APPLIED] == {"s": 2}
    assert written[REVISION] == 2


def test_a_contiguous_view_refuses_an_event_after_a_gap() -> None:
    buffer = ViewBuffer()
    buffer.apply("v", "a", stream="s", sequence=1, project=tag("x"), contiguous=True)
    with pytest.raises(StreamGap):
        buffer.apply("v", "a", stream="s", sequence=3, project=tag("z"), contiguous=True)


def test_a_search_follows_the_documents_as_they_change() -> None:
    buffer = ViewBuffer()
    buffer.apply("v", "a", stream="s", sequence=1, project=tag("x"))
    assert [d["_id"] for d in buffer.find_in("v", "tags", ["x"])] == ["a"]

    buffer.apply("v", "b", stream="t", sequence=1, project=tag("x"))
    buffer.apply("v", "a", stream="s", sequence=2, project=lambda _: {"tags": ["y"]})

    assert [d["_id"] for d in buffer.find_in("v", "tags", ["x"])] == ["b"]
    assert [d["_id"] for d in buffer.find_in("v", "tags", ["x", "y"])] == ["a", "b"]
    assert buffer.find_in("other", "tags", ["x"]) == []


def test_what_it_hands_out_is_a_copy() -> None:
    buffer = ViewBuffer()
    buffer.apply("v", "a", stream="s", sequence=1, project=tag("x"))
    found = buffer.get("v", "a")
    assert found is not None
    found["tags"].append("changed")
    assert buffer.get("v", "a") == {"_id": "a", "tags": ["x"]}
