"""The public API fuzzed without a key: everything but health, login and logout is 401,
the live feeds included; and the areas the runs are split into cover the document."""

import json
import re
from pathlib import Path

import pytest

from tests.support.fuzzing import (
    AREAS,
    OPEN_WITHOUT_KEY,
    answers_by_area,
    area_filter,
    area_of,
    fuzz,
)
from tests.support.openapi_documents import merged_public_document
from tests.support.stack import Stack

pytestmark = pytest.mark.timeout(3600)


@pytest.mark.parametrize("area", AREAS)
class TestFuzzedApi:
    def test_without_a_key_everything_but_health_is_refused(
        self, stack: Stack, document: Path, tmp_path: Path, area: str
    ) -> None:
        cassette = tmp_path / "cassette.yaml"
        fuzz(stack, document, area_filter(area), cassette)

        segments = {
            path.strip("/").split("/")[0]
            for path in json.loads(document.read_text())["paths"]
            if area_of(path) == area
        }
        seen = answers_by_area(cassette)
        closed = {
            segment: codes for segment, codes in seen.items() if segment not in OPEN_WITHOUT_KEY
        }
        assert set(closed) == segments - set(OPEN_WITHOUT_KEY), "every path of the area was tried"
        assert all(codes == {401} for codes in closed.values()), closed


class TestTheAreasCoverTheDocument:
    def test_each_path_is_in_exactly_one_area_and_every_area_has_paths(self) -> None:
        paths = merged_public_document()["paths"]
        by_area = {area: [p for p in paths if area_of(p) == area] for area in AREAS}
        assert all(by_area.values()), by_area
        for path in paths:
            kept = [area for area in AREAS if _kept_by(area, path)]
            assert kept == [area_of(path)], path


def _kept_by(area: str, path: str) -> bool:
    """Whether schemathesis, given ``area_filter(area)``, keeps ``path`` (regex search)."""
    options = area_filter(area)
    pairs = dict(zip(options[::2], options[1::2], strict=True))
    include = pairs.get("--include-path-regex")
    exclude = pairs.get("--exclude-path-regex")
    return (include is None or re.search(include, path) is not None) and (
        exclude is None or re.search(exclude, path) is None
    )
