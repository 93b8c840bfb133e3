"""The U-CAP status between reporting (which writes it) and the gateway (which reads it).

The gateway keeps its own typed copy of the contract (``ucap_gateway.reported``);
these tests hold it to reporting's model, field by field, and to a status that
reporting's own projections made.
"""

import types
import typing
from datetime import date
from typing import Any

from pydantic import BaseModel

from tests.services.reporting.conftest import Streams
from tests.services.reporting.test_projections import status_after, ucap_created
from tests.services.reporting.test_status_fields import b2b_status
from ucap_gateway.reported import Reported, ReportedStatus
from ucap_reporting.status import UcapStatus


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``X | None``, ``list[X]`` or ``tuple[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, tuple, typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            if (found := _model_in(argument)) is not None:
                return found
    return None


def missing_fields(reader: type[BaseModel], writer: type[BaseModel], path: str) -> list[str]:
    """Fields ``reader`` reads that ``writer`` does not write, however deep."""
    missing = []
    for name, read in reader.model_fields.items():
        written = writer.model_fields.get(name)
        if written is None:
            missing.append(f"{path}.{name}")
            continue
        inner_reader, inner_writer = _model_in(read.annotation), _model_in(written.annotation)
        if inner_reader is not None and issubclass(inner_reader, Reported):
            if inner_writer is None:
                missing.append(f"{path}.{name} (no model on reporting's side)")
            else:
                missing += missing_fields(inner_reader, inner_writer, f"{path}.{name}")
    return missing


def test_every_field_the_gateway_reads_is_one_reporting_writes() -> None:
    assert missing_fields(ReportedStatus, UcapStatus, "status") == []


def test_a_field_reporting_does_not_write_is_caught() -> None:
    class Wrong(Reported):
        ucap_id: str
        not_written: str

    assert missing_fields(Wrong, UcapStatus, "status") == ["status.not_written"]


async def test_a_status_reporting_made_reads_whole_and_comes_back_unchanged() -> None:
    s = Streams()
    written = await status_after(
        [
            ucap_created("u", "granada", ["kunming"]),
            s.city_registered("granada", "Granada", "ES", ["Smart City"]),
            s.city_registered("kunming", "Kunming"),
            s.mou_drafted("m1", ["granada", "kunming"], valid_until="2021-01"),
            s.mou_signed("m1", "granada", "2018-09"),
            s.mou_signed("m1", "kunming", "2018-09"),
            s.pilot_proposed("p1", "u", "granada", ["kunming"]),
            s.pilot_status("p1", "started", "in_progress", "2019-01"),
            s.milestone_added("p1", "ms1", "2020-09"),
            s.pilot_progress("p1", "up1", "2020-10-01", "kunming", "half way"),
        ],
        date(2020, 11, 15),
    )

    read = ReportedStatus.model_validate(written)

    assert read.applied == written["applied"]
    assert read.model_dump(mode="json") == {k: v for k, v in written.items() if k != "applied"}
    (kunming,) = read.counterparts
    assert kunming.city.name == "Kunming"
    assert kunming.mous[0].status == "in_force"
    assert kunming.pilots[0].milestone_counts.overdue == 1
    assert kunming.pilots[0].last_update is not None
    assert kunming.pilots[0].last_update.summary == "half way"


CONTRACT_B: dict[str, list[str]] = {
    "": ["axis", "organisations"],
    "lead_city": ["kind", "stakeholders"],
    "lead_city.stakeholders": ["stakeholder_id", "name", "kind", "website"],
    "organisations": [
        "organisation_id",
        "name",
        "native_name",
        "kind",
        "scope",
        "country",
        "website",
    ],
    "counterparts.city": ["kind", "stakeholders"],
    "counterparts.mous": ["subject", "themes", "parties", "party_city_ids", "signatures"],
    "counterparts.mous.parties": ["city_id", "organisation_id", "name", "stakeholder_ids"],
    "counterparts.mous.signatures": [
        "city_id",
        "organisation_id",
        "signed_on",
        "place",
        "signatory",
        "occasion",
    ],
    "counterparts.pilots": [
        "description",
        "partners",
        "stakeholder_ids",
        "sdg_targets",
        "urban_agenda_themes",
        "indicators",
    ],
    "counterparts.pilots.partners": ["city_id", "role"],
    "counterparts.pilots.indicators": [
        "indicator_id",
        "name",
        "unit",
        "baseline",
        "target",
        "latest",
    ],
    "counterparts.pilots.indicators.latest": ["value", "on"],
    "ucap.activities": ["status", "end_date"],
    "figures": ["activities_per_year", "activities_planned"],
}
"""Where contract B adds each field (``ISSUE16.md``), by path from the status."""


def _model_at(path: str) -> type[BaseModel]:
    model: type[BaseModel] = UcapStatus
    for name in filter(None, path.split(".")):
        inner = _model_in(model.model_fields[name].annotation)
        assert inner is not None, f"{path}: {name} holds no model"
        model = inner
    return model


def test_reporting_writes_every_field_contract_b_adds() -> None:
    missing = [
        f"{path}.{name}".lstrip(".")
        for path, names in CONTRACT_B.items()
        for name in names
        if name not in _model_at(path).model_fields
    ]
    assert missing == []


async def test_a_status_with_every_contract_b_fact_reads_whole_in_the_gateway() -> None:
    written = await b2b_status()

    read = ReportedStatus.model_validate(written)

    assert read.model_dump(mode="json") == {k: v for k, v in written.items() if k != "applied"}
    assert written["axis"] == "live"
    assert written["organisations"][0]["organisation_id"] == "biotech-fund"
    (mou,) = written["counterparts"][0]["mous"]
    assert {p["organisation_id"] for p in mou["parties"]} == {"fira", "tianfu", "biotech-fund"}
    assert written["counterparts"][0]["pilots"][0]["indicators"][0]["latest"]["value"] == 120
    assert written["figures"]["activities_planned"] == 1
