"""Drafting a MoU and adding a party: the events made, and every refusal with its field."""

from datetime import date

import pytest

from tests.unit.mous_examples import (
    BARCELONA,
    CITIES,
    FIRA,
    FUND,
    GRANADA,
    KUNMING,
    MOU_ID,
    ORGANISATIONS,
    TODAY,
    ZHENGZHOU,
    a_mou,
    applied,
    day,
    drafted,
    signed,
    signed_by_all,
)
from ucap_mous import domain
from ucap_mous.domain import MoU
from ucap_mous.events import MouExpired, MouPartyAdded, MouTerminated, Party
from ucap_shared.problems import ConflictError, InvalidInputError

Locs = list[list[str | int]]


def problems_of(error: pytest.ExceptionInfo[InvalidInputError]) -> Locs:
    return [problem.loc for problem in error.value.problems]


def refused_draft(*parties: Party, **fields: object) -> Locs:
    with pytest.raises(InvalidInputError) as error:
        domain.draft_mou(None, drafted(parties=parties, **fields), CITIES, ORGANISATIONS)
    return problems_of(error)


def refused_party(party: Party, mou: MoU | None = None) -> Locs:
    with pytest.raises(InvalidInputError) as error:
        domain.add_party(mou or a_mou(), party, CITIES, TODAY, ORGANISATIONS)
    return problems_of(error)


def terminated(mou: MoU) -> MoU:
    event = MouTerminated(mou_id=MOU_ID, terminated_on=day("2020"), reason="superseded")
    return applied(mou, [event])


class TestDrafting:
    def test_an_acceptable_draft_is_its_own_event(self) -> None:
        command = drafted(parties=(FIRA, GRANADA, FUND), valid_from="2018-07")
        assert domain.draft_mou(None, command, CITIES, ORGANISATIONS) == [command]

    def test_a_city_and_its_own_stakeholder_are_two_parties(self) -> None:
        command = drafted(parties=(BARCELONA, FIRA))
        assert domain.draft_mou(None, command, CITIES) == [command]

    def test_a_mou_id_taken_is_a_conflict_naming_it(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.draft_mou(a_mou(), drafted(parties=(KUNMING, GRANADA)), CITIES)
        assert error.value.context == {"mou_id": MOU_ID}
        assert "already exists" in error.value.detail

    def test_an_organisation_not_a_stakeholder_of_its_city_is_refused(self) -> None:
        party = Party(city_id="granada", organisation_id="fira-de-barcelona")
        assert refused_draft(ZHENGZHOU, party) == [["parties", 1, "organisation_id"]]

    def test_the_organisation_is_named_before_the_stakeholders_of_its_party(self) -> None:
        party = Party(
            city_id="granada",
            organisation_id="nobody",
            stakeholder_ids=("pts-health-park", "chengang-group"),
        )
        assert refused_draft(ZHENGZHOU, party) == [
            ["parties", 1, "organisation_id"],
            ["parties", 1, "stakeholder_ids", 1],
        ]

    def test_an_unknown_city_is_named_alone_not_its_stakeholders(self) -> None:
        party = Party(city_id="atlantis", organisation_id="x", stakeholder_ids=("y",))
        assert refused_draft(GRANADA, party) == [["parties", 1, "city_id"]]

    def test_an_organisation_with_no_city_has_no_stakeholders(self) -> None:
        party = Party(organisation_id="uk-china-biotech-fund", stakeholder_ids=("x",))
        assert refused_draft(GRANADA, party) == [["parties", 1, "stakeholder_ids"]]

    def test_an_unknown_organisation_with_stakeholders_has_both_problems(self) -> None:
        party = Party(organisation_id="nobody", stakeholder_ids=("x",))
        assert refused_draft(party, GRANADA) == [
            ["parties", 0, "organisation_id"],
            ["parties", 0, "stakeholder_ids"],
        ]

    @pytest.mark.parametrize("party", [FIRA, FUND], ids=["stakeholder", "no-city"])
    def test_an_organisation_named_twice_is_refused_at_its_organisation(self, party: Party) -> None:
        assert refused_draft(GRANADA, party, party) == [["parties", 2, "organisation_id"]]

    @pytest.mark.parametrize(
        "parties", [(), (GRANADA,), (FUND, FUND)], ids=["none", "one", "one-twice"]
    )
    def test_fewer_than_two_parties_are_refused(self, parties: tuple[Party, ...]) -> None:
        assert ["parties"] in refused_draft(*parties)

    @pytest.mark.parametrize(
        ("valid_from", "valid_until"),
        [
            (None, None),
            ("2018-07", None),
            (None, "2020"),
            ("2018-07", "2018-07"),
            ("2018", "2018-01"),
        ],
    )
    def test_a_validity_open_at_either_end_or_not_ending_before_it_starts_is_accepted(
        self, valid_from: str | None, valid_until: str | None
    ) -> None:
        command = drafted(valid_from=valid_from, valid_until=valid_until)
        assert domain.draft_mou(None, command, CITIES) == [command]

    def test_a_validity_ending_before_it_starts_is_refused_at_its_end(self) -> None:
        locs = refused_draft(GRANADA, ZHENGZHOU, valid_from="2018-07-02", valid_until="2018-07-01")
        assert locs == [["valid_until"]]

    @pytest.mark.parametrize(
        ("valid_from", "valid_until"),
        [("2019-06", "2019"), ("2019-06-15", "2019-06"), ("2019-12-31", "2019")],
    )
    def test_a_validity_ending_in_a_coarser_period_that_holds_its_start_is_accepted(
        self, valid_from: str, valid_until: str
    ) -> None:
        command = drafted(valid_from=valid_from, valid_until=valid_until)
        assert domain.draft_mou(None, command, CITIES) == [command]


class TestAddingAParty:
    @pytest.mark.parametrize("party", [KUNMING, FIRA, FUND], ids=["city", "stakeholder", "no-city"])
    def test_a_known_party_of_each_kind_is_added(self, party: Party) -> None:
        assert domain.add_party(a_mou(), party, CITIES, TODAY, ORGANISATIONS) == [
            MouPartyAdded(mou_id=MOU_ID, party=party)
        ]

    def test_a_city_whose_stakeholder_is_a_party_may_join_itself(self) -> None:
        mou = a_mou(parties=(GRANADA, FIRA))
        assert domain.add_party(mou, BARCELONA, CITIES, TODAY) == [
            MouPartyAdded(mou_id=MOU_ID, party=BARCELONA)
        ]

    def test_a_party_may_join_while_some_have_signed(self) -> None:
        mou = applied(a_mou(), [signed(GRANADA)])
        assert domain.add_party(mou, KUNMING, CITIES, TODAY) == [
            MouPartyAdded(mou_id=MOU_ID, party=KUNMING)
        ]

    def test_an_organisation_not_a_stakeholder_of_its_city_is_refused(self) -> None:
        party = Party(city_id="kunming", organisation_id="fira-de-barcelona")
        assert refused_party(party) == [["organisation_id"]]

    def test_stakeholders_not_of_its_city_are_refused_by_their_place(self) -> None:
        party = Party(city_id="kunming", stakeholder_ids=("chengang-group", "pts-health-park"))
        assert refused_party(party) == [["stakeholder_ids", 0], ["stakeholder_ids", 1]]

    def test_an_unknown_organisation_with_no_city_is_refused(self) -> None:
        assert refused_party(Party(organisation_id="nobody")) == [["organisation_id"]]

    def test_an_organisation_with_no_city_and_stakeholders_is_refused(self) -> None:
        party = Party(organisation_id="eurocities", stakeholder_ids=("x",))
        assert refused_party(party) == [["stakeholder_ids"]]

    def test_an_invalid_party_is_refused_as_invalid_even_by_a_closed_mou(self) -> None:
        assert refused_party(Party(city_id="atlantis"), terminated(a_mou())) == [["city_id"]]

    def test_a_party_already_there_is_a_conflict_naming_it(self) -> None:
        mou = a_mou(parties=(GRANADA, FIRA))
        with pytest.raises(ConflictError) as error:
            domain.add_party(mou, FIRA, CITIES, TODAY)
        assert error.value.context == {
            "mou_id": MOU_ID,
            "city_id": "barcelona",
            "organisation_id": "fira-de-barcelona",
        }
        assert error.value.detail.startswith("barcelona/fira-de-barcelona is already a party")

    @pytest.mark.parametrize("valid_from", [None, "2030"], ids=["in-force", "signed"])
    def test_a_mou_signed_by_all_takes_no_new_party(self, valid_from: str | None) -> None:
        mou = signed_by_all(a_mou(valid_from=valid_from))
        with pytest.raises(ConflictError) as error:
            domain.add_party(mou, KUNMING, CITIES, TODAY)
        assert error.value.context == {"mou_id": MOU_ID}
        assert "takes no new party" in error.value.detail

    def test_a_terminated_mou_takes_no_new_party(self) -> None:
        with pytest.raises(ConflictError) as error:
            domain.add_party(terminated(a_mou()), KUNMING, CITIES, TODAY)
        assert error.value.context == {"mou_id": MOU_ID, "status": "terminated"}
        assert "accepts no new party" in error.value.detail

    def test_a_mou_past_its_validity_takes_no_new_party(self) -> None:
        mou = a_mou(valid_until="2023-12-31")
        assert domain.add_party(mou, KUNMING, CITIES, date(2023, 12, 31))
        with pytest.raises(ConflictError) as error:
            domain.add_party(mou, KUNMING, CITIES, date(2024, 1, 1))
        assert error.value.context == {"mou_id": MOU_ID, "status": "expired"}

    def test_a_mou_with_an_expiry_recorded_takes_no_new_party(self) -> None:
        mou = applied(a_mou(), [MouExpired(mou_id=MOU_ID, expired_on=day("2023"))])
        with pytest.raises(ConflictError) as error:
            domain.add_party(mou, KUNMING, CITIES, TODAY)
        assert error.value.context["status"] == "expired"


class TestDescribingAParty:
    @pytest.mark.parametrize(
        ("party", "named"),
        [
            (GRANADA, "granada"),
            (FIRA, "barcelona/fira-de-barcelona"),
            (FUND, "uk-china-biotech-fund"),
        ],
    )
    def test_a_party_is_named_by_the_parts_of_its_key_it_has(
        self, party: Party, named: str
    ) -> None:
        assert domain.describe(party.key) == named
