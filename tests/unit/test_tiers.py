"""Every test has exactly one tier, and the unit tier asks for no server."""

import pytest

from tests.conftest import NEEDS_SERVERS, tier_of

TIERS = {"unit", "integration", "e2e"}


def tiers(item: pytest.Item) -> set[str]:
    return {mark.name for mark in item.iter_markers()} & TIERS


class TestTiers:
    def test_every_test_of_this_run_is_in_exactly_one_tier(
        self, request: pytest.FixtureRequest
    ) -> None:
        items = request.session.items

        assert items
        assert [item.nodeid for item in items if len(tiers(item)) != 1] == []

    def test_no_unit_test_asks_for_the_servers(self, request: pytest.FixtureRequest) -> None:
        units = [item for item in request.session.items if "unit" in tiers(item)]

        assert request.node in units
        assert [
            item.nodeid for item in units if NEEDS_SERVERS & set(getattr(item, "fixturenames", ()))
        ] == []

    def test_a_test_asking_for_the_infrastructure_is_an_integration_test(
        self, request: pytest.FixtureRequest
    ) -> None:
        assert tier_of(request.node) == "unit"
        request.node.fixturenames.append("infra")
        try:
            assert tier_of(request.node) == "integration"
        finally:
            request.node.fixturenames.remove("infra")
