"""Organisations with no city (``ucap.organisation.registered.v1``, on the cities topic).

A status document holds copies of the organisations its MoUs' parties and its pilots
refer to. Either may come first, so both sides look: a MoU or pilot copy pushed to a
U-CAP first writes ``organisation_index_view`` (organisation id -> the U-CAPs that refer
to it) and then *pulls* the organisation's copy along; an organisation's event writes
its copy and then *pushes* it to the U-CAPs the index names. Each writer writes before
it reads the other side, so of two concurrent ones at least one sees the other.
"""

from collections.abc import Iterable

from ucap_reporting.projections.documents import (
    ORGANISATION_INDEX_VIEW,
    ORGANISATIONS_VIEW,
    Sections,
    Source,
    apply_change,
    narrow,
)
from ucap_reporting.store import ViewStore
from ucap_shared.envelope import Envelope
from ucap_shared.events import EventData
from ucap_shared.views import Document, Outcome


class OrganisationRegistered(EventData):
    model_config = narrow
    event_type = "ucap.organisation.registered.v1"

    organisation_id: str
    name: str
    native_name: str | None = None
    kind: str | None = None
    scope: str | None = None
    country: str | None = None
    website: str | None = None


def empty_organisation(organisation_id: str) -> Document:
    return {
        "organisation_id": organisation_id,
        "seq": 0,
        "name": None,
        "native_name": None,
        "kind": None,
        "scope": None,
        "country": None,
        "website": None,
    }


async def _ucaps_referring(views: ViewStore, organisation: Document) -> list[str]:
    index = await views.get(ORGANISATION_INDEX_VIEW, organisation["organisation_id"])
    return list(index["ucap_ids"]) if index else []


ORGANISATIONS = Source(
    "organisation",
    ORGANISATIONS_VIEW,
    "organisations",
    "organisation_id",
    empty_organisation,
    _ucaps_referring,
)


async def on_organisation_registered(
    views: ViewStore, envelope: Envelope, data: OrganisationRegistered
) -> Outcome:
    fields = data.model_dump(mode="json")
    return await apply_change(views, ORGANISATIONS, envelope, lambda o: {**o, **fields})


async def pull_organisations(
    views: ViewStore,
    organisation_ids: Iterable[str],
    ucap_ids: list[str],
    stream: str,
    sequence: int,
) -> Sections:
    """Name ``ucap_ids`` in the index of each organisation, then read the copies known.

    The index is written only when it lacks one of them (it only grows), so a copy
    pushed again costs one read per organisation, not a write."""
    found: list[Document] = []
    for organisation_id in sorted(set(organisation_ids)):
        index = await views.get(ORGANISATION_INDEX_VIEW, organisation_id)
        if index is None or not set(ucap_ids) <= set(index["ucap_ids"]):
            await views.apply(
                ORGANISATION_INDEX_VIEW,
                organisation_id,
                stream=stream,
                sequence=sequence,
                project=lambda current: {
                    "ucap_ids": sorted({*(current or {}).get("ucap_ids", []), *ucap_ids})
                },
            )
        if (organisation := await views.get(ORGANISATIONS_VIEW, organisation_id)) is not None:
            found.append(organisation)
    return {"organisations": found} if found else {}


def organisations_of_mou(mou: Document) -> list[str]:
    """The organisations with no city among a MoU's parties."""
    return [
        p["organisation_id"]
        for p in mou.get("parties", [])
        if p.get("organisation_id") and not p.get("city_id")
    ]


def organisations_of_pilot(pilot: Document) -> list[str]:
    """A pilot's stakeholders, any of which may be an organisation with no city."""
    return list(pilot.get("stakeholder_ids") or [])


async def pulled_by_mou(
    views: ViewStore, mou: Document, ucap_ids: list[str], stream: str, sequence: int
) -> Sections:
    return await pull_organisations(views, organisations_of_mou(mou), ucap_ids, stream, sequence)


async def pulled_by_pilot(
    views: ViewStore, pilot: Document, ucap_ids: list[str], stream: str, sequence: int
) -> Sections:
    return await pull_organisations(
        views, organisations_of_pilot(pilot), ucap_ids, stream, sequence
    )
