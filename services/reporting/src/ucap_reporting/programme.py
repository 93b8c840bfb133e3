"""The programme view: all U-CAPs by cluster, theme, SDG and country.

Computed when read, from the ``ucap_status_view`` documents, rather than kept
as counters updated by events. Why:

- the flags (overdue milestones, pilots without an update in 90 days, MoUs
  expiring within 90 days) move with the calendar, so counters would be wrong
  the day after they were written unless something rewrote them daily;
- an event still touches only the documents it concerns (its source copy and
  its U-CAPs' status documents); nothing is recomputed on an event;
- the read is one query on indexed fields (``f_clusters``, ``f_themes``,
  ``f_sdgs``, ``f_countries``, filled by the projections), bounded by the
  number of U-CAPs in the programme (IUC counts them in hundreds), and capped
  at ``MAX_UCAPS``; beyond that, counters per facet would be the next step.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, Field
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from ucap_reporting.projections import STATUS_VIEW
from ucap_reporting.status import Figures, Flags, UcapStatus, status_of
from ucap_shared.consumer import TopicFreshness
from ucap_shared.views import WITHOUT_BOOKKEEPING, Document, readable

MAX_UCAPS = 2000


class Counts(BaseModel):
    ucaps: int
    pilots: int
    pilots_by_status: dict[str, int] = Field(examples=[{"in_progress": 3}])
    mous: int
    mous_signed: int
    overdue_milestones: int = Field(description="Milestones not done after their planned date")
    stale_pilots: int = Field(description="Active pilots without an update in 90 days")
    expiring_mous: int = Field(description="MoUs whose validity ends within 90 days")


class Group(Counts):
    key: str = Field(description="The cluster, theme, SDG number or country", examples=["CN"])


class Filters(BaseModel):
    cluster: str | None = None
    theme: str | None = None
    sdg: int | None = None
    country: str | None = None


class UcapRow(BaseModel):
    """One U-CAP of the programme: its figures and what needs attention."""

    ucap_id: str = Field(examples=["granada-ucap"])
    title: str
    lead_city_id: str = Field(examples=["granada"])
    figures: Figures
    flags: Flags


class ProgrammeStatus(BaseModel):
    on: date
    filters: Filters
    totals: Counts
    ucaps: list[UcapRow] = Field(description="Every U-CAP counted, in id order")
    by_cluster: list[Group]
    by_theme: list[Group]
    by_sdg: list[Group]
    by_country: list[Group]
    truncated: bool = Field(description=f"More than {MAX_UCAPS} U-CAPs matched; counts are partial")
    freshness: list[TopicFreshness]


def _counts(statuses: Iterable[UcapStatus]) -> Counts:
    items = list(statuses)
    by_status: Counter[str] = Counter()
    for status in items:
        by_status.update(status.figures.pilots_by_status)
    return Counts(
        ucaps=len(items),
        pilots=sum(s.figures.pilots for s in items),
        pilots_by_status=dict(sorted(by_status.items())),
        mous=sum(s.figures.mous for s in items),
        mous_signed=sum(s.figures.mous_signed for s in items),
        overdue_milestones=sum(len(s.flags.overdue_milestones) for s in items),
        stale_pilots=sum(len(s.flags.stale_pilots) for s in items),
        expiring_mous=sum(len(s.flags.expiring_mous) for s in items),
    )


def _groups(pairs: list[tuple[list[str], UcapStatus]]) -> list[Group]:
    keys = sorted({key for facet, _ in pairs for key in facet})
    return [
        Group(key=key, **_counts(s for facet, s in pairs if key in facet).model_dump())
        for key in keys
    ]


def query_of(filters: Filters) -> Document:
    query: Document = {"ucap": {"$ne": None}}
    if filters.cluster:
        query["f_clusters"] = filters.cluster
    if filters.theme:
        query["f_themes"] = filters.theme
    if filters.sdg is not None:
        query["f_sdgs"] = filters.sdg
    if filters.country:
        query["f_countries"] = filters.country
    return query


def programme_of(
    documents: list[Document], filters: Filters, today: date, freshness: list[TopicFreshness]
) -> ProgrammeStatus:
    rows: list[tuple[Document, UcapStatus]] = []
    for document in documents[:MAX_UCAPS]:
        status = status_of(document, today, [])
        if status is not None:
            rows.append((document, status))
    return ProgrammeStatus(
        on=today,
        filters=filters,
        totals=_counts(s for _, s in rows),
        ucaps=[
            UcapRow(
                ucap_id=s.ucap_id,
                title=s.ucap.title,
                lead_city_id=s.ucap.lead_city_id,
                figures=s.figures,
                flags=s.flags,
            )
            for _, s in rows
        ],
        by_cluster=_groups([(d["f_clusters"], s) for d, s in rows]),
        by_theme=_groups([(d["f_themes"], s) for d, s in rows]),
        by_sdg=_groups([([str(g) for g in d["f_sdgs"]], s) for d, s in rows]),
        by_country=_groups([(d["f_countries"], s) for d, s in rows]),
        truncated=len(documents) > MAX_UCAPS,
        freshness=freshness,
    )


async def read_programme(
    database: AsyncDatabase[Document],
    filters: Filters,
    today: date,
    freshness: list[TopicFreshness],
) -> ProgrammeStatus:
    cursor = (
        database[STATUS_VIEW]
        .find(query_of(filters), WITHOUT_BOOKKEEPING)
        .sort("_id", ASCENDING)
        .limit(MAX_UCAPS + 1)
    )
    options = database.codec_options
    documents = [readable(found, options) or {} for found in await cursor.to_list()]
    return programme_of(documents, filters, today, freshness)


INDEXED_FACETS = ("f_clusters", "f_themes", "f_sdgs", "f_countries")
