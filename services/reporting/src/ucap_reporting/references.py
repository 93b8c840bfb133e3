"""The cities a U-CAP names must be cities this service knows: registered in its copy.

Reporting learns cities from the cities service's events (``cities_view``), a moment
after the cities service answered; a U-CAP naming a city registered a moment ago may be
refused until the copy has it, and the caller retries.
"""

import asyncio
from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from ucap_reporting.projections import CITIES_VIEW
from ucap_shared.errors import FieldProblem, InvalidInputError
from ucap_shared.views import Document

CITY_FIELDS = ("lead_city_id", "counterpart_city_ids")


async def registered_cities(database: AsyncDatabase[Document], city_ids: set[str]) -> set[str]:
    """Those of ``city_ids`` whose copy says registered: a read by ``_id`` each."""
    view = database[CITIES_VIEW]
    found = await asyncio.gather(
        *(view.find_one({"_id": city_id}, {"registered": 1}) for city_id in sorted(city_ids))
    )
    return {doc["_id"] for doc in found if doc is not None and doc.get("registered") is True}


def unknown_city_problems(fields: Mapping[str, Any], known: set[str]) -> list[FieldProblem]:
    """A problem for the lead and for each counterpart in ``fields`` that is not ``known``."""
    problems: list[FieldProblem] = []
    lead = fields.get("lead_city_id")
    if lead is not None and lead not in known:
        problems.append(FieldProblem(loc=["body", "lead_city_id"], msg=f"unknown city {lead}"))
    for index, city_id in enumerate(fields.get("counterpart_city_ids") or ()):
        if city_id not in known:
            problems.append(
                FieldProblem(
                    loc=["body", "counterpart_city_ids", index], msg=f"unknown city {city_id}"
                )
            )
    return problems


def named_cities(fields: Mapping[str, Any]) -> set[str]:
    lead = fields.get("lead_city_id")
    return {*([lead] if lead is not None else []), *(fields.get("counterpart_city_ids") or ())}


async def check_cities(database: AsyncDatabase[Document], fields: Mapping[str, Any]) -> None:
    """422 naming each city of ``fields`` (lead, counterparts) this service does not know."""
    wanted = named_cities({name: fields[name] for name in CITY_FIELDS if name in fields})
    if not wanted:
        return
    problems = unknown_city_problems(fields, await registered_cities(database, wanted))
    if problems:
        raise InvalidInputError(problems)
