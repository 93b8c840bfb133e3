"""The scheduled expiry check runs by itself in the service's lifespan."""

from collections.abc import AsyncIterator

import pytest

from tests.services.mous.conftest import MousService, start_mous, unique_mou_id
from tests.support.infra import Infra
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
async def frequently_checking(infra: Infra) -> AsyncIterator[MousService]:
    async for service in start_mous(infra, "expiry", expiry_check_seconds=0.5):
        yield service


class TestScheduledExpiryCheck:
    async def test_records_the_expiry_of_a_mou_past_its_validity_without_being_asked(
        self, frequently_checking: MousService
    ) -> None:
        mous = frequently_checking
        [granada, kunming] = await mous.register_cities("granada", "kunming")
        ended, open_ended = unique_mou_id("ended"), unique_mou_id("open")
        await mous.draft(ended, [granada, kunming], valid_until="2020")
        await mous.draft(open_ended, [granada, kunming])

        async def expired() -> bool:
            return "ucap.mou.expired.v1" in await mous.history_types(ended)

        await eventually(expired, timeout=10)
        assert await mous.history_types(open_ended) == ["ucap.mou.drafted.v1"]
