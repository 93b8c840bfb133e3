"""The MoU rules, pure: no Kafka, no database."""

from datetime import date

import pytest

from ucap_mous import domain
from ucap_mous.domain import Amendment, MoU, Signature, Status, Termination
from ucap_mous.events import MouDrafted, MouExpired, MouSigned, Party
from ucap_pilots.consumers import MouDrafted as PilotsMouDrafted
from ucap_shared.dates import PartialDate
from ucap_shared.errors import ConflictError, InvalidInputError

CITIES = {
    "granada": frozenset({"pts-health-park"}),
    "kunming": frozenset(),
    "zhengzhou": frozenset({"chengang-group"}),
}
TODAY = date(2024, 1, 15)


def drafted(**changes: object) -> MouDrafted:
    fields: dict[str, object] = {
        "mou_id": "granada-zhengzhou-2018",
        "title": "MoU between Granada and Zhengzhou",
        "subject": "Smart city cooperation",
        "parties": (Party(city_id="granada"), Party(city_id="zhengzhou")),
        "themes": ("Smart City and Digital Transition",),
        "valid_from": None,
        "valid_until": None,
        "documents": (),
    }
    return MouDrafted.model_validate({**fields, **changes})


def draft(**changes: object) -> MoU:
    mou = domain.fold(domain.draft_mou(None, drafted(**changes), CITIES))
    assert mou is not None
    return mou


def sign(mou: MoU, city_id: str, on: str = "2018-07", today: date = TODAY) -> MoU:
    events = domain.sign_mou(
        mou, Signature(city_id=city_id, signed_on=PartialDate.parse(on)), today
    )
    return domain.evolve(mou, events[0])


def signed_by_all(mou: MoU, on: str = "2018-07", today: date = TODAY) -> MoU:
    for party in mou.party_city_ids:
        mou = sign(mou, party, on, today)
    return mou


class TestDrafting:
    def test_refuses_every_unknown_city_and_stakeholder_at_once(self) -> None:
        parties = (
            Party(city_id="atlantis"),
            Party(city_id="zhengzhou", stakeholder_ids=("nobody",)),
            Party(city_id="granada"),
        )
        with pytest.raises(InvalidInputError) as refused:
            domain.draft_mou(None, drafted(parties=parties), CITIES)
        assert [p.loc for p in refused.value.problems] == [
            ["parties", 0, "city_id"],
            ["parties", 1, "stakeholder_ids", 0],
        ]

    def test_refuses_a_city_named_twice_and_a_validity_ending_before_it_starts(self) -> None:
        parties = (Party(city_id="granada"), Party(city_id="granada"))
        with pytest.raises(InvalidInputError) as refused:
            domain.draft_mou(
                None,
                drafted(parties=parties, valid_from="2019", valid_until="2018-12"),
                CITIES,
            )
        assert {tuple(p.loc) for p in refused.value.problems} == {
            ("parties", 1, "city_id"),
            ("parties",),
            ("valid_until",),
        }

    def test_refuses_drafting_an_existing_mou(self) -> None:
        with pytest.raises(ConflictError):
            domain.draft_mou(draft(), drafted(), CITIES)


class TestStatus:
    def test_a_mou_is_a_draft_until_every_party_has_signed(self) -> None:
        mou = sign(draft(), "granada")
        assert mou.status_on(TODAY) is Status.DRAFT
        assert mou.signed_on is None

    def test_signed_by_all_without_validity_start_is_in_force(self) -> None:
        mou = signed_by_all(draft())
        assert mou.status_on(TODAY) is Status.IN_FORCE
        assert mou.signed_on == PartialDate(2018, 7)

    def test_signed_before_its_validity_starts_is_signed_not_in_force(self) -> None:
        mou = signed_by_all(draft(valid_from="2024-02"))
        assert mou.status_on(TODAY) is Status.SIGNED
        assert mou.status_on(date(2024, 2, 1)) is Status.IN_FORCE

    def test_a_mou_past_its_validity_is_expired_on_read(self) -> None:
        mou = signed_by_all(draft(valid_until="2023-12"), today=date(2023, 6, 1))
        assert mou.status_on(date(2023, 12, 31)) is Status.IN_FORCE
        assert mou.status_on(TODAY) is Status.EXPIRED

    def test_a_terminated_mou_is_terminated(self) -> None:
        mou = signed_by_all(draft())
        events = domain.terminate_mou(
            mou, Termination(terminated_on=PartialDate.parse("2020"), reason="x"), TODAY
        )
        assert domain.evolve(mou, events[0]).status_on(TODAY) is Status.TERMINATED


class TestSigning:
    def test_signing_twice_for_one_party_is_a_conflict(self) -> None:
        mou = sign(draft(), "granada")
        with pytest.raises(ConflictError, match="already signed"):
            sign(mou, "granada")

    def test_a_city_that_is_not_a_party_cannot_sign(self) -> None:
        with pytest.raises(ConflictError, match="not a party"):
            sign(draft(), "kunming")

    def test_an_expired_mou_accepts_no_signature(self) -> None:
        with pytest.raises(ConflictError, match="expired"):
            sign(draft(valid_until="2020"), "granada")

    def test_a_signature_keeps_place_and_occasion(self) -> None:
        signature = Signature(
            city_id="granada",
            signed_on=PartialDate.parse("2018-07"),
            place="Zhengzhou",
            occasion="July 2018 mission",
        )
        [event] = domain.sign_mou(draft(), signature, TODAY)
        assert isinstance(event, MouSigned)
        assert (event.place, event.occasion) == ("Zhengzhou", "July 2018 mission")


class TestAmendingAndTerminating:
    def test_a_terminated_mou_accepts_no_amendment(self) -> None:
        mou = draft()
        [terminated] = domain.terminate_mou(
            mou, Termination(terminated_on=PartialDate.parse("2020"), reason="x"), TODAY
        )
        mou = domain.evolve(mou, terminated)
        with pytest.raises(ConflictError, match="terminated"):
            domain.amend_mou(
                mou, Amendment(amended_on=PartialDate.parse("2021"), summary="late"), TODAY
            )
        with pytest.raises(ConflictError):
            domain.terminate_mou(
                mou, Termination(terminated_on=PartialDate.parse("2021"), reason="again"), TODAY
            )

    def test_an_amendment_is_folded_in(self) -> None:
        mou = draft()
        [amended] = domain.amend_mou(
            mou, Amendment(amended_on=PartialDate.parse("2019-06"), summary="more"), TODAY
        )
        assert domain.evolve(mou, amended).amendments[0].summary == "more"


class TestAddingParties:
    def test_adds_a_known_city_once(self) -> None:
        mou = draft()
        [added] = domain.add_party(mou, Party(city_id="kunming"), CITIES, TODAY)
        mou = domain.evolve(mou, added)
        assert mou.party_city_ids == ["granada", "zhengzhou", "kunming"]
        with pytest.raises(ConflictError, match="already a party"):
            domain.add_party(mou, Party(city_id="kunming"), CITIES, TODAY)

    def test_refuses_an_unknown_city(self) -> None:
        with pytest.raises(InvalidInputError) as refused:
            domain.add_party(draft(), Party(city_id="atlantis"), CITIES, TODAY)
        assert refused.value.problems[0].loc == ["city_id"]

    def test_refuses_a_party_once_all_have_signed(self) -> None:
        with pytest.raises(ConflictError):
            domain.add_party(signed_by_all(draft()), Party(city_id="kunming"), CITIES, TODAY)


class TestExpiry:
    def test_expires_once_the_validity_has_ended_and_only_once(self) -> None:
        mou = draft(valid_until="2023-12")
        assert domain.expire_mou(mou, date(2023, 12, 31)) == []
        [expired] = domain.expire_mou(mou, TODAY)
        assert expired == MouExpired(mou_id=mou.mou_id, expired_on=PartialDate(2023, 12))
        assert domain.expire_mou(domain.evolve(mou, expired), TODAY) == []

    def test_an_open_ended_mou_never_expires(self) -> None:
        assert domain.expire_mou(draft(), date(2999, 1, 1)) == []


FIRA = Party(city_id="barcelona", organisation_id="fira-de-barcelona")
FUND = Party(organisation_id="uk-china-biotech-fund")
WITH_ORGANISATIONS = {**CITIES, "barcelona": frozenset({"fira-de-barcelona"})}


def sign_as(mou: MoU, party: Party, on: str | None) -> MoU:
    signature = Signature(
        city_id=party.city_id,
        organisation_id=party.organisation_id,
        signed_on=PartialDate.parse(on) if on else None,
    )
    [signed] = domain.sign_mou(mou, signature, TODAY)
    return domain.evolve(mou, signed)


class TestOrganisationParties:
    def test_a_stakeholder_and_an_organisation_with_no_city_are_parties(self) -> None:
        parties = (FIRA, Party(city_id="granada"), FUND)
        mou = domain.fold(
            domain.draft_mou(
                None,
                drafted(parties=parties),
                WITH_ORGANISATIONS,
                frozenset({"uk-china-biotech-fund"}),
            )
        )
        assert mou is not None
        assert mou.party_city_ids == ["barcelona", "granada"]
        assert mou.party_keys == [
            ("barcelona", "fira-de-barcelona"),
            ("granada", None),
            (None, "uk-china-biotech-fund"),
        ]

    def test_an_organisation_with_no_city_must_be_known(self) -> None:
        with pytest.raises(InvalidInputError) as refused:
            domain.draft_mou(None, drafted(parties=(Party(city_id="granada"), FUND)), CITIES)
        assert refused.value.problems[0].loc == ["parties", 1, "organisation_id"]


class TestSignedOn:
    def test_is_the_last_date_when_every_signature_has_one(self) -> None:
        mou = draft()
        mou = sign_as(mou, Party(city_id="granada"), "2018-07-20")
        mou = sign_as(mou, Party(city_id="zhengzhou"), "2018-08")
        assert mou.signed_on == PartialDate(2018, 8)
        assert mou.status_on(TODAY) is Status.IN_FORCE

    def test_is_null_but_the_mou_signed_when_a_date_is_unknown(self) -> None:
        mou = sign_as(draft(), Party(city_id="granada"), None)
        assert mou.status_on(TODAY) is Status.DRAFT
        mou = sign_as(mou, Party(city_id="zhengzhou"), "2018-07")
        assert mou.fully_signed
        assert mou.signed_on is None
        assert mou.status_on(TODAY) is Status.IN_FORCE

    def test_with_a_future_validity_an_undated_mou_is_signed_not_in_force(self) -> None:
        mou = draft(valid_from="2030-01")
        mou = sign_as(
            sign_as(mou, Party(city_id="granada"), None), Party(city_id="zhengzhou"), None
        )
        assert mou.status_on(TODAY) is Status.SIGNED


class TestOldEventShapes:
    def test_events_written_before_organisations_still_fold(self) -> None:
        old_drafted = MouDrafted.model_validate(
            {
                "mou_id": "granada-zhengzhou-2018",
                "title": "MoU",
                "subject": "Smart city",
                "parties": [
                    {"city_id": "granada", "stakeholder_ids": []},
                    {"city_id": "zhengzhou", "stakeholder_ids": ["chengang-group"]},
                ],
                "themes": [],
                "valid_from": None,
                "valid_until": None,
                "documents": [],
            }
        )
        old_signatures = [
            MouSigned.model_validate(
                {
                    "mou_id": "granada-zhengzhou-2018",
                    "city_id": city,
                    "signed_on": "2018-07",
                    "place": None,
                    "signatory": None,
                    "occasion": None,
                }
            )
            for city in ("granada", "zhengzhou")
        ]
        mou = domain.fold([old_drafted, *old_signatures])
        assert mou is not None
        assert mou.parties[1].organisation_id is None
        assert mou.signatures[0].organisation_id is None
        assert mou.signed_on == PartialDate(2018, 7)
        assert mou.status_on(TODAY) is Status.IN_FORCE


class TestPilotsReadOfOrganisationParties:
    def test_a_party_with_no_city_is_read_and_left_out_of_its_cities(self) -> None:
        data = drafted(parties=(Party(city_id="granada"), FUND)).model_dump(mode="json")
        read = PilotsMouDrafted.model_validate(data)
        assert [party.city_id for party in read.parties] == ["granada", None]
