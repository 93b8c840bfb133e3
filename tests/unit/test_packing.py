"""Packed view fields: stored as one blob, read back as they were."""

from datetime import UTC, datetime

from bson import Binary
from bson.codec_options import CodecOptions

from ucap_shared.views import APPLIED, PACKED, pack_fields, packed, readable, unpacked

OPTIONS: CodecOptions[dict[str, object]] = CodecOptions(document_class=dict, tz_aware=True)
pack_fields("packing_test_view", ("pilots", APPLIED))


def test_the_packed_fields_travel_as_one_blob_and_come_back_equal() -> None:
    document = {
        "_id": "u",
        "f_themes": ["Smart City"],
        "pilots": [{"pilot_id": "p1", "updated_at": datetime(2020, 7, 15, 9, 30, tzinfo=UTC)}],
        APPLIED: {"pilot:p1": 3},
    }

    stored = packed("packing_test_view", document)

    assert set(stored) == {"_id", "f_themes", PACKED}
    assert isinstance(stored[PACKED], Binary)
    assert unpacked(stored, OPTIONS) == document
    assert readable(stored, OPTIONS) == {k: v for k, v in document.items() if k != APPLIED}


def test_a_view_without_packed_fields_is_stored_as_it_is() -> None:
    document = {"_id": "c", "name": "Granada", APPLIED: {"city:granada": 1}}
    assert packed("another_view", document) == document
    assert unpacked(document, OPTIONS) == document
