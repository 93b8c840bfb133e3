"""Every demo data file reads as a data file and holds together: every id one of its
entries refers to is an entry of the same file (a city, a city's stakeholder, an
organisation, an MoU, a pilot, a U-CAP, a milestone, an indicator)."""

from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT
from ucap_ops.datafile import DataFile, read_data_file

DEMO_FILES = sorted((REPO_ROOT / "deploy" / "demo").glob("*.json"))


def dangling(data: DataFile) -> list[str]:
    """Each reference of the file to something the file does not hold, by where it is."""
    cities = {city.id: {s.id for s in city.stakeholders} for city in data.cities}
    organisations = {o.organisation_id for o in data.organisations}
    mous = {mou.id for mou in data.mous}
    pilots = {pilot.id for pilot in data.pilots}
    ucaps = {ucap.id for ucap in data.ucaps}
    found: list[str] = []

    def check(
        where: str, kind: str, value: str | None, known: set[str] | dict[str, set[str]]
    ) -> None:
        if value is not None and value not in known:
            found.append(f"{where}: {kind} {value!r}")

    for mou in data.mous:
        named = {party.party for party in mou.parties}
        for party in [*mou.parties, *mou.signatures]:
            if party.city_id is not None:
                check(f"mou {mou.id}", "city", party.city_id, cities)
                check(
                    f"mou {mou.id}",
                    "stakeholder",
                    party.organisation_id,
                    cities.get(party.city_id, set()),
                )
            else:
                check(f"mou {mou.id}", "organisation", party.organisation_id, organisations)
        for signature in mou.signatures:
            if signature.party not in named:
                found.append(f"mou {mou.id}: {signature.label} signs but is no party")
    for pilot in data.pilots:
        where = f"pilot {pilot.id}"
        taking_part = [pilot.lead_city_id, *(p.city_id for p in pilot.partners)]
        for city_id in taking_part:
            check(where, "city", city_id, cities)
        stakeholders = set().union(*(cities.get(city_id, set()) for city_id in taking_part))
        for stakeholder_id in pilot.stakeholder_ids:
            check(where, "stakeholder", stakeholder_id, stakeholders)
        for mou_id in pilot.mou_ids:
            check(where, "MoU", mou_id, mous)
        check(where, "U-CAP", pilot.ucap_id, ucaps)
        milestones = {milestone.id for milestone in pilot.milestones}
        indicators = {indicator.id for indicator in pilot.indicators}
        for update in pilot.progress:
            check(where, "city", update.reporting_city_id, cities)
            check(where, "milestone", update.milestone_id, milestones)
            for value in update.indicator_values:
                check(where, "indicator", value.indicator_id, indicators)
    for ucap in data.ucaps:
        for city_id in [ucap.lead_city_id, *ucap.counterpart_city_ids]:
            check(f"ucap {ucap.id}", "city", city_id, cities)
        for activity in ucap.activities:
            where = f"ucap {ucap.id} activity {activity.activity_id}"
            for city_id in activity.city_ids:
                check(where, "city", city_id, cities)
            for mou_id in activity.mou_ids:
                check(where, "MoU", mou_id, mous)
            for pilot_id in activity.pilot_ids:
                check(where, "pilot", pilot_id, pilots)
    return found


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda path: path.name)
class TestADemoFile:
    def test_is_a_version_2_data_file(self, path: Path) -> None:
        assert read_data_file(path).version == 2

    def test_refers_only_to_what_it_holds(self, path: Path) -> None:
        assert dangling(read_data_file(path)) == []

    def test_names_its_sources(self, path: Path) -> None:
        source = read_data_file(path).source

        assert source is not None
        assert "IUC" in source


class TestTheCheckOfReferences:
    def test_finds_a_reference_to_what_the_file_lacks(self) -> None:
        data = read_data_file(REPO_ROOT / "deploy" / "demo" / "iuc-asia.json")
        pilot = data.pilots[0].model_copy(update={"mou_ids": ["no-such-mou"]})

        found = dangling(data.model_copy(update={"pilots": [pilot, *data.pilots[1:]]}))

        assert found == [f"pilot {pilot.id}: MoU 'no-such-mou'"]


def test_there_are_two_demo_files() -> None:
    assert [path.name for path in DEMO_FILES] == ["granada.json", "iuc-asia.json"]
