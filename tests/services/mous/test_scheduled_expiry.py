"""The scheduled expiry check runs by itself in the service's lifespan."""

from collections.abc import AsyncIterator

import pytest

from tests.services.mous.conftest import MousService, start_mous, unique_mou_id
from tests.support.infra import Infra
from tests.support.waiting import eventually
from ucap_shared.envelope import Envelope


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

    async def test_names_the_draft_that_set_the_end_of_validity_as_its_cause(
        self, frequently_checking: MousService
    ) -> None:
        mous = frequently_checking
        [granada, kunming] = await mous.register_cities("granada", "kunming")
        ended = unique_mou_id("caused")
        await mous.draft(ended, [granada, kunming], valid_until="2019-06")
        store = mous.app.state.runtime.store

        async def expired() -> list[Envelope] | None:
            events = await store.load(ended)
            return events if len(events) == 2 else None

        drafted, expiry = await eventually(expired, timeout=10)
        assert expiry.type == "ucap.mou.expired.v1"
        assert expiry.causationid == str(drafted.id)
        assert drafted.causationid is None
