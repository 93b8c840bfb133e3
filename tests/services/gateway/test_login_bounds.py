"""The log-in form's ``next`` is a path on this site of at most ``URL_CHARS`` characters."""

import pytest

from ucap_gateway.login import UnsafeNextError, local_path
from ucap_shared import bounds


class TestNextIsBounded:
    def test_a_path_at_the_bound_is_taken(self) -> None:
        path = "/" + "a" * (bounds.URL_CHARS - 1)

        assert local_path(path) == path

    def test_a_path_past_the_bound_is_refused(self) -> None:
        with pytest.raises(UnsafeNextError):
            local_path("/" + "a" * bounds.URL_CHARS)
