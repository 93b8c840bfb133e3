"""A draft whose event would pass ``MAX_EVENT_BYTES`` is refused with 413 through the API.

Every field is within its bound and the body within ``UCAP_MAX_BODY_BYTES`` (1 MiB), but
linked documents at their bounds (50, each with a title of 500 and a URL of 2 000
characters), written in a script of three bytes a character, make one
``ucap.mou.drafted.v1`` of about 370 KB. Other services hold their aggregates to a size
of their own below the limit (reporting's U-CAPs, pilots), so this is where a client can
reach it; ``tests/integration/test_event_size.py`` checks the limit itself.
"""

from typing import Any

import httpx
import pytest

from tests.services.mous.conftest import MousService, unique_mou_id
from ucap_shared import bounds
from ucap_shared.bounds import MAX_EVENT_BYTES


def documents(letter: str) -> list[dict[str, str]]:
    url = "https://example.org/"
    document = {
        "title": letter * bounds.TITLE_CHARS,
        "url": url + letter * (bounds.URL_CHARS - len(url)),
    }
    return [document] * bounds.ITEMS_PER_LIST


@pytest.fixture(scope="module")
async def parties(mous: MousService) -> list[str]:
    return await mous.register_cities("granada", "zhengzhou")


async def draft(mous: MousService, parties: list[str], letter: str) -> tuple[str, httpx.Response]:
    mou_id = unique_mou_id("large")
    response = await mous.draft(mou_id, parties, documents=documents(letter))
    return mou_id, response


class TestADraftTooLargeForOneEvent:
    async def test_is_refused_with_413_in_the_error_body(
        self, mous: MousService, parties: list[str]
    ) -> None:
        _, response = await draft(mous, parties, "文")

        assert response.status_code == 413, response.text
        answer: dict[str, Any] = response.json()
        assert answer["error"] == "too_large"
        assert f"the {MAX_EVENT_BYTES} an event may" in answer["detail"]
        assert answer["context"]["event_type"] == "ucap.mou.drafted.v1"
        assert answer["context"]["size_bytes"] > MAX_EVENT_BYTES

    async def test_records_nothing(self, mous: MousService, parties: list[str]) -> None:
        mou_id, _ = await draft(mous, parties, "文")

        assert await mous.version(mou_id) == 0
        assert (await mous.client.get(f"/mous/{mou_id}")).status_code == 404

    async def test_was_a_body_the_service_reads_whole(
        self, mous: MousService, parties: list[str]
    ) -> None:
        body = {"id": "x", "documents": documents("文")}

        assert len(httpx.Request("POST", "/", json=body).content) < mous.settings.max_body_bytes


class TestTheSameDraftThatFitsOneEvent:
    async def test_is_recorded(self, mous: MousService, parties: list[str]) -> None:
        mou_id, response = await draft(mous, parties, "x")

        assert response.status_code == 201, response.text
        assert len(response.json()["documents"]) == bounds.ITEMS_PER_LIST
        assert await mous.version(mou_id) == 1
