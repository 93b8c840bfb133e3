import base64

import pytest

from ucap_shared.cursors import decode_cursor, encode_cursor
from ucap_shared.errors import InvalidInputError


class TestCursors:
    def test_round_trip_the_sort_keys(self) -> None:
        assert decode_cursor(encode_cursor("2018-07", "granada-zhengzhou"), 2) == (
            "2018-07",
            "granada-zhengzhou",
        )

    @pytest.mark.parametrize(
        "cursor",
        [
            "not base64 at all!",
            base64.urlsafe_b64encode(b"{}").decode(),
            encode_cursor("only-one"),
            base64.urlsafe_b64encode(b"[1, 2]").decode(),
        ],
    )
    def test_refuses_a_cursor_it_did_not_make_naming_the_field(self, cursor: str) -> None:
        with pytest.raises(InvalidInputError) as raised:
            decode_cursor(cursor, 2)
        assert raised.value.problems[0].loc == ["query", "cursor"]
