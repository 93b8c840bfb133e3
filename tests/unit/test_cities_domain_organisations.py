"""The organisation aggregate: registered once, folded from that one event."""

import pytest
from pydantic import TypeAdapter

from tests.unit.cities_examples import organisation_registered
from ucap_cities.domain import IdTakenError
from ucap_cities.events import OrganisationRegistered, OrganisationScope, StakeholderKind
from ucap_cities.organisations import domain
from ucap_cities.organisations.domain import Organisation
from ucap_shared.problems import ConflictError, NotFoundError

ORGANISATION_ID = "china-center-for-urban-development"
INTERNATIONAL = organisation_registered(
    organisation_id="uk-china-biotech-fund",
    name="UK-China Biotech Fund",
    native_name=None,
    scope=OrganisationScope.INTERNATIONAL,
    country=None,
    website=None,
)


def an_organisation() -> Organisation:
    return domain.evolve(None, organisation_registered())


class TestRegisterOrganisation:
    @pytest.mark.parametrize(
        "event", [organisation_registered(), INTERNATIONAL], ids=["national", "international"]
    )
    def test_a_new_organisation_is_registered_as_given(self, event: OrganisationRegistered) -> None:
        assert domain.register_organisation(None, event) == [event]

    def test_a_registered_organisation_is_a_conflict_naming_it(self) -> None:
        another = organisation_registered(name="CCUD", kind=StakeholderKind.UNIVERSITY)
        with pytest.raises(ConflictError) as refused:
            domain.register_organisation(an_organisation(), another)
        assert isinstance(refused.value, domain.OrganisationAlreadyRegisteredError)
        assert refused.value.kind == "conflict"
        assert refused.value.context == {"organisation_id": ORGANISATION_ID}
        assert str(refused.value) == f"organisation {ORGANISATION_ID!r} is already registered"


class TestEvolve:
    def test_the_registration_makes_an_organisation_of_its_fields_at_version_one(self) -> None:
        assert an_organisation() == Organisation(
            organisation_id=ORGANISATION_ID,
            name="China Center for Urban Development",
            native_name="中国城市和小城镇改革发展中心",
            kind=StakeholderKind.OTHER,
            scope=OrganisationScope.NATIONAL,
            country="CN",
            website="https://www.ccud.org.cn/",
            version=1,
        )

    def test_an_organisation_with_nothing_optional_keeps_the_nulls(self) -> None:
        organisation = domain.evolve(None, INTERNATIONAL)
        assert (organisation.native_name, organisation.country, organisation.website) == (
            None,
            None,
            None,
        )
        assert organisation.scope is OrganisationScope.INTERNATIONAL

    def test_a_second_registration_is_an_error_naming_the_organisation(self) -> None:
        with pytest.raises(
            ValueError, match=f"^ucap.organisation.registered.v1 of {ORGANISATION_ID} twice$"
        ):
            domain.evolve(an_organisation(), organisation_registered(name="Another"))

    def test_an_organisation_kept_as_a_snapshot_reads_back_equal(self) -> None:
        adapter = TypeAdapter(Organisation)
        for organisation in (an_organisation(), domain.evolve(None, INTERNATIONAL)):
            assert adapter.validate_json(adapter.dump_json(organisation)) == organisation


class TestRefusals:
    def test_an_organisation_not_registered_is_not_found_naming_it(self) -> None:
        error = domain.OrganisationNotFoundError("nobody")
        assert isinstance(error, NotFoundError)
        assert (error.kind, error.context) == ("not_found", {"organisation_id": "nobody"})
        assert str(error) == "no organisation 'nobody'"

    def test_an_id_a_city_holds_is_taken_naming_it(self) -> None:
        error = domain.not_an_organisation("granada")
        assert isinstance(error, IdTakenError)
        assert isinstance(error, ConflictError)
        assert error.context == {"id": "granada"}
        assert str(error) == "'granada' is the id of a city, not an organisation"
