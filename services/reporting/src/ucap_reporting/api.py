"""The HTTP API: thin routes from requests to command handlers and view queries."""

import hashlib
import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from ucap_reporting import capacity, handlers, views
from ucap_reporting.asof import end_of, status_as_of
from ucap_reporting.domain import Ucap
from ucap_reporting.programme import Filters, ProgrammeStatus, read_programme
from ucap_reporting.schemas import (
    ActivityChanges,
    ActivityIn,
    CreateUcapRequest,
    DeliverRequest,
    UcapFields,
)
from ucap_reporting.status import Axis, UcapStatus, status_of
from ucap_shared import service_api
from ucap_shared.api_docs import VALIDATION_ERROR_REF, error_response
from ucap_shared.app import ServiceRuntime
from ucap_shared.auth import Writer
from ucap_shared.consumer import TopicFreshness
from ucap_shared.dates import today
from ucap_shared.errors import ErrorBody, FieldProblem, InvalidInputError, NotFoundError
from ucap_shared.service_api import RuntimeDep
from ucap_shared.topics import events_topic

__all__ = ["ActivityIn", "CreateUcapRequest", "router"]  # the bodies as the API takes them

SOURCE_TOPICS = tuple(events_topic(s) for s in ("cities", "mous", "pilots"))


AsOfQuery = Annotated[
    date | None,
    Query(
        description="Cooperation time: as it stood at the end of this day (YYYY-MM-DD) by the "
        "dates the facts carry (signed on, effective on, held on, reported on...), whenever "
        "they were recorded"
    ),
]
RecordedAsOfQuery = Annotated[
    date | None,
    Query(
        description="Recorded time: what had been recorded by the end of this day (UTC), "
        "YYYY-MM-DD. Not with `as_of`"
    ),
]
BOTH_AXES = error_response(
    "Invalid input; among it, both `as_of` and `recorded_as_of`", VALIDATION_ERROR_REF
)


def axis_of(as_of: date | None, recorded_as_of: date | None) -> tuple[Axis, date | None]:
    """Which time axis, and which day, a request asks about (422 when both are given)."""
    if as_of is not None and recorded_as_of is not None:
        raise InvalidInputError(
            [
                FieldProblem(
                    loc=["query", "recorded_as_of"],
                    msg="give `as_of` (cooperation time) or `recorded_as_of`, not both",
                )
            ]
        )
    if as_of is not None:
        return Axis.COOPERATION, as_of
    if recorded_as_of is not None:
        return Axis.RECORDED, recorded_as_of
    return Axis.LIVE, None


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No U-CAP (or activity) with this id"}
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorBody,
        "description": "The caller may not write, or its city does not lead this U-CAP",
    }
}
GROWN = f"or it would make the U-CAP larger than {capacity.MAX_UCAP_BYTES // 1024} KiB as JSON"
EXISTS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": f"A U-CAP with this id exists, {GROWN}"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorBody,
        "description": f"The U-CAP's current state forbids this change, {GROWN}",
    }
}
CITIES: dict[int | str, dict[str, Any]] = {
    422: error_response(
        "Invalid input; among it, a `lead_city_id` or `counterpart_city_ids` entry naming a "
        "city this service does not know (it learns cities from the cities service's events, "
        "a moment after their registration: retry)",
        VALIDATION_ERROR_REF,
    )
}


def freshness(runtime: ServiceRuntime) -> list[TopicFreshness]:
    """Per source topic, in a fixed order; a topic not consumed yet reads as unknown."""
    known = {f.topic: f for f in runtime.freshness()}
    topics = (*SOURCE_TOPICS, runtime.own_topic)
    return [known.get(topic) or TopicFreshness(topic=topic) for topic in topics]


# --- responses ----------------------------------------------------------------


class UcapPage(BaseModel):
    items: list[Ucap]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


# --- routes -------------------------------------------------------------------

router = APIRouter(tags=["ucaps"])


@router.post(
    "/ucaps",
    status_code=status.HTTP_201_CREATED,
    summary="Create a U-CAP",
    responses=EXISTS | FORBIDDEN | CITIES,
)
async def create_ucap(body: CreateUcapRequest, runtime: RuntimeDep, caller: Writer) -> Ucap:
    return await handlers.create_ucap(runtime, body.command(), caller)


@router.patch(
    "/ucaps/{ucap_id}",
    summary="Edit sections of a U-CAP",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT | CITIES,
)
async def update_ucap(ucap_id: str, body: UcapFields, runtime: RuntimeDep, caller: Writer) -> Ucap:
    """Only the fields sent change; one `section_updated` event per section that changed."""
    return await handlers.update_sections(runtime, ucap_id, body.changes(), caller)


@router.post(
    "/ucaps/{ucap_id}/activities",
    status_code=status.HTTP_201_CREATED,
    summary="Log an activity on the timeline",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def log_activity(ucap_id: str, body: ActivityIn, runtime: RuntimeDep, caller: Writer) -> Ucap:
    return await handlers.log_activity(runtime, ucap_id, body.activity(), caller)


@router.patch(
    "/ucaps/{ucap_id}/activities/{activity_id}",
    summary="Edit an activity",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def update_activity(
    ucap_id: str, activity_id: str, body: ActivityChanges, runtime: RuntimeDep, caller: Writer
) -> Ucap:
    changes = body.model_dump(mode="json", include=body.model_fields_set)
    return await handlers.update_activity(runtime, ucap_id, activity_id, changes, caller)


@router.delete(
    "/ucaps/{ucap_id}/activities/{activity_id}",
    summary="Remove an activity",
    responses=NOT_FOUND | FORBIDDEN,
)
async def remove_activity(
    ucap_id: str, activity_id: str, runtime: RuntimeDep, caller: Writer
) -> Ucap:
    return await handlers.remove_activity(runtime, ucap_id, activity_id, caller)


@router.post(
    "/ucaps/{ucap_id}/deliver",
    summary="Record the U-CAP's delivery or finalisation",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def deliver(ucap_id: str, body: DeliverRequest, runtime: RuntimeDep, caller: Writer) -> Ucap:
    """Delivery moves forward (draft, delivered, final); at the same status again only with
    a new deliverable."""
    deliverable = body.deliverable.deliverable() if body.deliverable else None
    return await handlers.deliver(
        runtime, ucap_id, body.status, body.delivered_on, deliverable, caller
    )


@router.get("/ucaps", summary="List U-CAPs by id")
async def list_ucaps(
    runtime: RuntimeDep,
    city: Annotated[str | None, Query(description="Only U-CAPs this city takes part in")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before")] = None,
) -> UcapPage:
    page = await views.list_ucaps(runtime.database, city=city, limit=limit, cursor=cursor)
    return UcapPage(items=page.items, next_cursor=page.next_cursor)


@router.get(
    "/ucaps/{ucap_id}",
    summary="One U-CAP, now or as of a date",
    responses=NOT_FOUND | {422: BOTH_AXES},
)
async def get_ucap(
    ucap_id: str,
    runtime: RuntimeDep,
    as_of: AsOfQuery = None,
    recorded_as_of: RecordedAsOfQuery = None,
) -> Ucap:
    axis, day = axis_of(as_of, recorded_as_of)
    if axis is Axis.RECORDED and day is not None:
        return await handlers.ucap_as_of(runtime, ucap_id, end_of(day))
    if axis is Axis.COOPERATION and day is not None:
        return await handlers.ucap_on(runtime, ucap_id, day, past=day < today())
    ucap = await views.find_ucap(runtime.database, ucap_id)
    if ucap is None:
        raise NotFoundError(f"no U-CAP {ucap_id}", ucap_id=ucap_id)
    return ucap


@router.get(
    "/ucaps/{ucap_id}/status",
    summary="The consolidated status of a U-CAP",
    response_model=UcapStatus,
    responses=NOT_FOUND
    | {
        304: {"description": "The live status is as it was under the ETag in If-None-Match"},
        422: BOTH_AXES,
    },
    tags=["status"],
)
async def ucap_status(
    ucap_id: str,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    as_of: AsOfQuery = None,
    recorded_as_of: RecordedAsOfQuery = None,
) -> UcapStatus | Response:
    """The U-CAP with its counterpart cities' profiles, the MoUs between the lead and each
    counterpart, the pilots grouped by counterpart city, figures, attention flags (for today,
    or for the day asked), and how fresh each source topic is. `axis` says which time:
    `live`; `cooperation` with `as_of` (by the dates the facts carry); `recorded` with
    `recorded_as_of` (what had been recorded by then). An as-of status is rebuilt from the
    events once and kept while it stands (see the README).

    The live status has an ETag that changes with its view document, the day and the
    freshness; with that ETag in `If-None-Match` the answer is 304, without building it."""
    axis, day = axis_of(as_of, recorded_as_of)
    if day is not None:
        found = await status_as_of(runtime, ucap_id, day, axis, current=freshness(runtime))
    else:
        stored = await views.read_status_document(runtime.database, ucap_id)
        if stored is None:
            raise NotFoundError(f"no U-CAP {ucap_id}", ucap_id=ucap_id)
        on, current = today(), freshness(runtime)
        etag = live_status_etag(stored.digest, on, current)
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response.headers["ETag"] = etag
        found = status_of(stored.document, on, current)
    if found is None:
        raise NotFoundError(f"no U-CAP {ucap_id}", ucap_id=ucap_id)
    return found


def live_status_etag(digest: str, on: date, current: list[TopicFreshness]) -> str:
    """What the live status is built from: its view document (by digest), the day (its
    flags) and the freshness it reports."""
    basis = json.dumps(
        [digest, on.isoformat(), [topic.model_dump(mode="json") for topic in current]]
    )
    return f'"{hashlib.sha256(basis.encode()).hexdigest()[:32]}"'


@router.get(
    "/programme/status", summary="All U-CAPs by cluster, theme, SDG, country", tags=["status"]
)
async def programme_status(
    runtime: RuntimeDep,
    cluster: Annotated[str | None, Query(description="Only U-CAPs in this cluster")] = None,
    theme: Annotated[str | None, Query(description="Only U-CAPs with this theme")] = None,
    sdg: Annotated[int | None, Query(ge=1, le=17, description="Only U-CAPs with this SDG")] = None,
    country: Annotated[str | None, Query(description="Only U-CAPs with a city there")] = None,
) -> ProgrammeStatus:
    filters = Filters(cluster=cluster, theme=theme, sdg=sdg, country=country)
    return await read_programme(runtime.database, filters, today(), freshness(runtime))


history_router = service_api.history_router(
    prefix="/ucaps",
    id_name="ucap_id",
    noun="U-CAP",
    not_found=lambda ucap_id: NotFoundError(f"no U-CAP {ucap_id}"),
)
