"""The public API fuzzed with a city publisher's key: every answer is one the document
lists, with a body and headers that match it. The live feeds (server-sent events)
answer a stream that never ends, so this run leaves them out."""

from pathlib import Path

import pytest

from tests.support.fuzzing import AREAS, ENDLESS_FEEDS, area_filter, fuzz
from tests.support.keys import create_key
from tests.support.stack import Stack

pytestmark = pytest.mark.timeout(3600)


@pytest.mark.parametrize("area", AREAS)
class TestFuzzedApi:
    def test_a_city_publisher_gets_only_documented_answers(
        self, stack: Stack, document: Path, tmp_path: Path, area: str
    ) -> None:
        key = create_key(stack.env, principal="city:granada", roles=["publisher"])["key"]
        options = ["--header", f"X-API-Key: {key}", *area_filter(area, excluding=ENDLESS_FEEDS)]
        fuzz(stack, document, options, tmp_path / "cassette.yaml")
