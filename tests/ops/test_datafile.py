"""The U-CAP data file, versions 1 and 2, read as pure logic: a version 1 file reads as
version 2 with the defaults; what only version 2 may hold is named in a version 1 file;
version 2's parties, organisations and signatures of unknown date are checked for shape."""

import copy
import json
from typing import Any

import pytest

from tests.support.ucap_command import GRANADA
from ucap_ops.datafile import DataFileError, combined, parse_data_file
from ucap_ops.loading.suffix import with_suffix

V2: dict[str, Any] = json.loads(GRANADA.read_text(encoding="utf-8"))
FUND = {
    "organisation_id": "uk-china-biotech-fund",
    "name": "UK-China Biotech Fund",
    "kind": "fund",
    "scope": "international",
}


def as_version_1(data: dict[str, Any]) -> dict[str, Any]:
    """Granada as a version 1 file said it: no kinds, no organisations, no activity status."""
    old = copy.deepcopy(data)
    old["version"] = 1
    old.pop("organisations")
    for city in old["cities"]:
        city.pop("kind")
    for ucap in old["ucaps"]:
        for activity in ucap["activities"]:
            activity.pop("status")
            activity.pop("end_date")
    return old


def parsed(data: dict[str, Any]) -> Any:
    return parse_data_file(json.dumps(data), "test.json")


def with_mou(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(V2)
    data["mous"][0].update(changes)
    return data


class TestVersions:
    def test_granada_is_version_2(self) -> None:
        assert parsed(V2).version == 2

    def test_a_version_1_file_reads_as_version_2_with_the_defaults(self) -> None:
        old = parsed(as_version_1(V2))

        assert old.version == 1
        assert old.model_dump(exclude={"version"}) == parsed(V2).model_dump(exclude={"version"})
        assert {city.kind for city in old.cities} == {"city"}
        assert {a.status for a in old.ucaps[0].activities} == {"held"}

    @pytest.mark.parametrize(
        ("change", "named"),
        [
            (lambda d: d["cities"][0].update(kind="region"), "cities (granada).kind"),
            (lambda d: d.update(organisations=[FUND]), "organisations"),
            (
                lambda d: d["ucaps"][0]["activities"][0].update(status="planned"),
                "activities (2018-07-first-meeting).status",
            ),
            (
                lambda d: d["mous"][0]["signatures"][0].update(signed_on=None),
                "a signature of unknown date",
            ),
        ],
    )
    def test_what_only_version_2_holds_is_named_in_a_version_1_file(
        self, change: Any, named: str
    ) -> None:
        old = as_version_1(V2)
        change(old)

        with pytest.raises(DataFileError) as refused:
            parsed(old)

        assert named in str(refused.value)
        assert "is version 2 (the file says version 1)" in str(refused.value)


class TestVersion2:
    def test_a_signature_of_unknown_date_says_so_with_null(self) -> None:
        mou = V2["mous"][0]
        signatures = [{**mou["signatures"][0], "signed_on": None}, mou["signatures"][1]]

        data = parsed(with_mou(signatures=signatures))

        assert data.mous[0].signatures[0].signed_on is None
        assert data.mous[0].drafted == mou["signatures"][1]["signed_on"]

    def test_a_signature_without_signed_on_is_refused(self) -> None:
        signature = {k: v for k, v in V2["mous"][0]["signatures"][0].items() if k != "signed_on"}

        with pytest.raises(DataFileError, match=r"signatures\[0\]\.signed_on: Field required"):
            parsed(with_mou(signatures=[signature]))

    def test_parties_may_be_organisations_of_a_city_or_of_none(self) -> None:
        data = copy.deepcopy(V2)
        data["organisations"] = [FUND]
        data["mous"][0]["parties"] = [
            {"city_id": "granada", "organisation_id": "university-of-granada"},
            {"organisation_id": "uk-china-biotech-fund"},
        ]
        data["mous"][0]["signatures"] = [
            {"city_id": "granada", "organisation_id": "university-of-granada", "signed_on": None},
            {"organisation_id": "uk-china-biotech-fund", "signed_on": "2019-03"},
        ]

        mou = parsed(data).mous[0]

        assert [p.party for p in mou.parties] == [
            ("granada", "university-of-granada"),
            (None, "uk-china-biotech-fund"),
        ]
        assert [s.label for s in mou.signatures] == [
            "granada/university-of-granada",
            "uk-china-biotech-fund",
        ]

    def test_a_party_that_names_no_one_is_refused(self) -> None:
        with pytest.raises(DataFileError, match=r"mous\[0\].*parties\[0\]: Value error, a party"):
            parsed(with_mou(parties=[{"stakeholder_ids": []}]))

    def test_a_national_organisation_needs_its_country(self) -> None:
        data = {**V2, "organisations": [{**FUND, "scope": "national"}]}

        with pytest.raises(DataFileError, match="a national organisation needs its country"):
            parsed(data)

    def test_an_unknown_activity_status_is_refused(self) -> None:
        data = copy.deepcopy(V2)
        data["ucaps"][0]["activities"][0]["status"] = "rumoured"

        with pytest.raises(DataFileError, match=r"activities\[0\] \(2018-07-first-meeting\)"):
            parsed(data)


class TestSeveralFiles:
    def test_read_as_one_in_file_order(self) -> None:
        first = parsed({**as_version_1(V2), "mous": [], "pilots": [], "ucaps": []})
        first = first.model_copy(update={"cities": first.cities[:1]})
        second = parsed({**V2, "cities": V2["cities"][1:], "organisations": [FUND]})

        both = combined([first, second])

        assert [c.id for c in both.cities] == [c["id"] for c in V2["cities"]]
        assert both.version == 2
        assert [o.organisation_id for o in both.organisations] == ["uk-china-biotech-fund"]

    def test_an_id_both_define_is_named(self) -> None:
        with pytest.raises(DataFileError, match="mous: 'granada-haikou-2018' appears 2 times"):
            combined([parsed(V2), parsed({**V2, "pilots": [], "ucaps": []})])

    def test_a_city_both_hold_is_loaded_twice_the_second_completing_it(self) -> None:
        both = combined([parsed(V2), parsed({**V2, "mous": [], "pilots": [], "ucaps": []})])

        assert [c.id for c in both.cities] == [c["id"] for c in V2["cities"]] * 2


class TestSuffix:
    def test_renames_organisations_with_no_city_and_keeps_stakeholder_ids(self) -> None:
        data = copy.deepcopy(V2)
        data["organisations"] = [FUND]
        data["mous"][0]["parties"] = [
            {"city_id": "granada", "organisation_id": "university-of-granada"},
            {"organisation_id": "uk-china-biotech-fund"},
        ]
        data["mous"][0]["signatures"] = []

        renamed = with_suffix(parsed(data), "t1")

        assert renamed.organisations[0].organisation_id == "uk-china-biotech-fund-t1"
        assert [p.party for p in renamed.mous[0].parties] == [
            ("granada-t1", "university-of-granada"),
            (None, "uk-china-biotech-fund-t1"),
        ]
