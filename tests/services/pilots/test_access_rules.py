"""Who may change which pilot, decided from the caller and the pilot alone (no I/O)."""

from collections.abc import Callable
from http import HTTPStatus

import pytest
from fastapi import HTTPException

from tests.services.pilots.test_domain import AT, proposed
from tests.support.auth import ADMIN, city_publisher, reader
from ucap_pilots import access, domain
from ucap_pilots.domain import Pilot
from ucap_pilots.events import ProgressUpdate
from ucap_shared.auth import Principal
from ucap_shared.dates import PartialDate


def granada_pilot() -> Pilot:
    """Led by granada with kunming as partner."""
    found = domain.fold([(proposed(), AT)])
    assert found is not None
    return found


def update(city: str) -> ProgressUpdate:
    return ProgressUpdate(
        update_id="upd-1",
        reported_on=PartialDate(2020, 7),
        reporting_city_id=city,
        summary="Done",
        indicator_values=(),
        milestone_id=None,
        attachments=(),
    )


def refused(check: Callable[[], None]) -> bool:
    """Whether ``check`` refuses with 403 (any other error propagates)."""
    try:
        check()
    except HTTPException as error:
        return error.status_code == HTTPStatus.FORBIDDEN
    return False


class TestProposing:
    @pytest.mark.parametrize(
        ("caller", "allowed"),
        [
            (ADMIN, True),
            (city_publisher("granada"), True),
            (city_publisher("kunming"), False),
            (reader(), False),
        ],
        ids=["admin", "lead", "partner", "reader"],
    )
    def test_only_the_lead_city_or_an_admin_proposes(
        self, caller: Principal, allowed: bool
    ) -> None:
        assert refused(lambda: access.check_propose(caller, proposed())) is not allowed


class TestChanging:
    @pytest.mark.parametrize(
        ("caller", "allowed"),
        [
            (ADMIN, True),
            (city_publisher("granada"), True),
            (city_publisher("kunming"), True),
            (city_publisher("haikou"), False),
            (reader(), False),
        ],
        ids=["admin", "lead", "partner", "stranger", "reader"],
    )
    def test_the_pilots_cities_and_admins_change_it(self, caller: Principal, allowed: bool) -> None:
        assert refused(lambda: access.check_change(caller, granada_pilot())) is not allowed


class TestReporting:
    @pytest.mark.parametrize(
        ("caller", "city", "allowed"),
        [
            (city_publisher("kunming"), "kunming", True),
            (city_publisher("kunming"), "granada", False),
            (ADMIN, "kunming", True),
            (ADMIN, "granada", True),
        ],
        ids=["as-itself", "as-another", "admin-1", "admin-2"],
    )
    def test_a_city_reports_only_as_itself(
        self, caller: Principal, city: str, allowed: bool
    ) -> None:
        assert refused(lambda: access.check_reporter(caller, update(city))) is not allowed
