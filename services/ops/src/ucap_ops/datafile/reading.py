"""Reading a U-CAP data file: JSON, its format marker and version, its shape, its ids;
each problem named by its place (``pilots[3] (granada-blocklab).sdg_goals[0]``)."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ucap_ops.datafile.models import FORMAT, VERSIONS, DataFile


class DataFileError(ValueError):
    """A file that is not a U-CAP data file this ucap reads; the message names the place."""


def read_data_file(path: Path) -> DataFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataFileError(f"cannot read {path}: {error.strerror or error}") from error
    return parse_data_file(text, str(path))


def parse_data_file(text: str, name: str) -> DataFile:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFileError(
            f"{name}: not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    if not isinstance(raw, dict):
        raise DataFileError(f"{name}: expected a JSON object with format, version and sections")
    if raw.get("format") != FORMAT:
        raise DataFileError(f'{name}: not a U-CAP data file (expected "format": "{FORMAT}")')
    if raw.get("version") not in VERSIONS:
        readable = " or ".join(map(str, VERSIONS))
        raise DataFileError(
            f"{name}: version {raw.get('version')!r} is not one this ucap reads ({readable})"
        )
    try:
        data = DataFile.model_validate(raw)
    except ValidationError as error:
        problems = [f"{place(raw, problem['loc'])}: {problem['msg']}" for problem in error.errors()]
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" * (len(problems) > 5))
        raise DataFileError(f"{name}: {shown}") from error
    problems = repeated_ids(data) + (newer_than_version_1(data) if data.version == 1 else [])
    if problems:
        raise DataFileError(f"{name}: {'; '.join(problems)}")
    return data


def combined(files: list[DataFile]) -> DataFile:
    """Several files as one (each section in file order): one load, one summary. Two files
    may both hold a city (the later one adds its stakeholders and clusters, as a second
    load would); any other id two files define is a problem, as within one file."""
    if len(files) == 1:
        return files[0]
    first = files[0]
    data = first.model_copy(
        update={
            "version": max(file.version for file in files),
            "source": "; ".join(file.source for file in files if file.source) or None,
            **{
                section: [entry for file in files for entry in getattr(file, section)]
                for section in ("cities", "organisations", "mous", "pilots", "ucaps")
            },
        }
    )
    duplicates = repeated_ids(data, cities=False)
    if duplicates:
        raise DataFileError(f"the files together: {'; '.join(duplicates)}")
    return data


def place(raw: object, loc: tuple[int | str, ...]) -> str:
    """``pilots[3] (granada-blocklab).sdg_goals[0]``: where a problem is, by position and id."""
    text = ""
    node: Any = raw
    for step in loc:
        if isinstance(step, int):
            text += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            named = (
                node.get("id") or node.get("organisation_id") or node.get("activity_id")
                if isinstance(node, dict)
                else None
            )
            if isinstance(named, str):
                text += f" ({named})"
        else:
            text += f".{step}" if text else step
            node = node.get(step) if isinstance(node, dict) else None
    return text or "(the file)"


def repeated_ids(data: DataFile, *, cities: bool = True) -> list[str]:
    sections: dict[str, list[str]] = {
        "cities": [city.id for city in data.cities] if cities else [],
        "organisations": [o.organisation_id for o in data.organisations],
        "mous": [mou.id for mou in data.mous],
        "pilots": [pilot.id for pilot in data.pilots],
        "ucaps": [ucap.id for ucap in data.ucaps],
    }
    for ucap in data.ucaps:
        sections[f"ucaps ({ucap.id}).activities"] = [a.activity_id for a in ucap.activities]
    return [
        f"{section}: {value!r} appears {count} times"
        for section, ids in sections.items()
        for value, count in Counter(ids).items()
        if count > 1
    ]


def newer_than_version_1(data: DataFile) -> list[str]:
    """What a version 1 file holds that only version 2 may: it says version 1 by mistake."""
    found = [f"cities ({c.id}).kind" for c in data.cities if "kind" in c.model_fields_set]
    found += ["organisations"] if data.organisations else []
    for mou in data.mous:
        named = [*mou.parties, *mou.signatures]
        if any(p.organisation_id is not None or p.city_id is None for p in named):
            found.append(f"mous ({mou.id}): a party that is an organisation")
        if any(s.signed_on is None for s in mou.signatures):
            found.append(f"mous ({mou.id}): a signature of unknown date")
    for ucap in data.ucaps:
        for activity in ucap.activities:
            given = activity.model_fields_set & {"status", "end_date"}
            found += [f"ucaps ({ucap.id}).activities ({activity.activity_id}).{f}" for f in given]
    return [f"{place} is version 2 (the file says version 1)" for place in found]
