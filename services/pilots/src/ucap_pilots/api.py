"""The HTTP API: thin routes from requests to command handlers and view queries.

Every request carries the gateway's token (the shared guard answers 401
otherwise). Any role reads; a write needs a publisher or an admin (``Writer``,
403 otherwise), and the handlers check which pilots that caller may change.
"""

from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status

from ucap_pilots import capacity, handlers, views
from ucap_pilots.domain import Action, Status, update_id_for
from ucap_pilots.events import Role
from ucap_pilots.limits import refuse_operator_keys
from ucap_pilots.schemas.fields import IdempotencyKey
from ucap_pilots.schemas.funding import FundingRequest
from ucap_pilots.schemas.indicators import IndicatorRequest
from ucap_pilots.schemas.milestones import CompleteMilestoneRequest, MilestoneRequest
from ucap_pilots.schemas.pilots import (
    EditPilotRequest,
    PilotOut,
    PilotPage,
    ProposePilotRequest,
    StatusChangeRequest,
)
from ucap_pilots.schemas.progress import ProgressOut, ProgressRequest
from ucap_shared import bounds, service_api
from ucap_shared.api_docs import VALIDATION_ERROR_REF, error_response
from ucap_shared.auth import Writer
from ucap_shared.dates import PartialDate, today, utc_moment
from ucap_shared.errors import ErrorBody, FieldProblem, InvalidInputError, NotFoundError
from ucap_shared.service_api import RuntimeDep

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No pilot with this id"}
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "A reader; or a city publisher acting for a city other than the pilot's "
        "lead or partners (or, reporting progress, other than its own)"
    }
}
GROWN = (
    f"or it would pass a pilot's limits ({capacity.MAX_MILESTONES} milestones, "
    f"{capacity.MAX_AWARDS} awards, {capacity.MAX_INDICATORS} indicators, "
    f"{capacity.MAX_UPDATES} progress updates, {capacity.MAX_UCAPS_NAMED} U-CAPs named, "
    f"{capacity.MAX_COPIED_BYTES // 1024} KiB of profile and latest update as JSON, "
    f"{capacity.MAX_PILOT_BYTES // 2**20} MiB in all)"
)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorBody,
        "description": f"The pilot's current state forbids this change, {GROWN}",
    }
}
UCAP_REFERENCE: dict[int | str, dict[str, Any]] = {
    422: error_response(
        "Invalid input; among it, `ucap_id` naming a U-CAP this service does not know (it "
        "learns U-CAPs from reporting's events, a moment after their creation: retry) or one "
        "whose lead and counterpart cities do not include the pilot's lead city",
        VALIDATION_ERROR_REF,
    )
}

router = APIRouter(prefix="/pilots", tags=["pilots"], dependencies=[Depends(refuse_operator_keys)])


def _moment(name: str, value: str, *, end_of_day: bool) -> datetime:
    """A query moment: an ISO date-time, or a date (2019, 2019-12, 2019-12-31) taken whole."""
    try:
        day = PartialDate.parse(value)
    except ValueError:
        pass
    else:
        if end_of_day:
            return datetime.combine(day.last_day, time.max, tzinfo=UTC)
        return datetime.combine(day.first_day, time.min, tzinfo=UTC)
    try:
        return utc_moment(datetime.fromisoformat(value))
    except ValueError as error:  # also a moment outside years 1 to 9999 once in UTC
        raise InvalidInputError(
            [FieldProblem(loc=["query", name], msg="a date (2019-12-31) or an ISO date-time")]
        ) from error


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Propose a pilot",
    responses=FORBIDDEN
    | UCAP_REFERENCE
    | {
        409: {
            "model": ErrorBody,
            "description": "A pilot with this id exists, or its U-CAP holds "
            f"{capacity.MAX_PILOTS_PER_UCAP} pilots already, {GROWN}",
        }
    },
)
async def propose_pilot(body: ProposePilotRequest, runtime: RuntimeDep, caller: Writer) -> PilotOut:
    """Its cities and MoUs must be known to this service; its id starts with `<lead city>-`.
    A city publisher proposes only with its own city as `lead_city_id`. Its `ucap_id`, if
    any, names a U-CAP whose lead or counterparts include the lead city (422 otherwise)."""
    pilot = await handlers.propose_pilot(runtime, body.command(), caller)
    return PilotOut.of(pilot, today())


def _status_route(action: Action, summary: str) -> None:
    async def change(
        pilot_id: str,
        runtime: RuntimeDep,
        caller: Writer,
        body: StatusChangeRequest | None = None,
    ) -> PilotOut:
        body = body or StatusChangeRequest()
        pilot = await handlers.change_status(
            runtime, pilot_id, action, body.effective_on, body.note, caller
        )
        return PilotOut.of(pilot, today())

    change.__name__ = f"{action.value}_pilot"
    change.__doc__ = "409, naming the allowed actions, when the pilot's status forbids it."
    router.post(
        f"/{{pilot_id}}/{action.value}", summary=summary, responses=NOT_FOUND | FORBIDDEN | CONFLICT
    )(change)


_status_route(Action.APPROVE, "Approve a proposed pilot")
_status_route(Action.START, "Start an approved pilot (in progress)")
_status_route(Action.HOLD, "Put an approved or running pilot on hold")
_status_route(Action.RESUME, "Resume a pilot on hold (in progress)")
_status_route(Action.COMPLETE, "Complete a running pilot")
_status_route(Action.CANCEL, "Cancel an open pilot")


@router.patch(
    "/{pilot_id}",
    summary="Edit details",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT | UCAP_REFERENCE,
)
async def edit_pilot(
    pilot_id: str, body: EditPilotRequest, runtime: RuntimeDep, caller: Writer
) -> PilotOut:
    """Only the fields sent change; a field equal to the current value records nothing."""
    pilot = await handlers.update_details(runtime, body.command(pilot_id), caller)
    return PilotOut.of(pilot, today())


@router.post(
    "/{pilot_id}/milestones",
    status_code=status.HTTP_201_CREATED,
    summary="Plan a milestone",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def add_milestone(
    pilot_id: str, body: MilestoneRequest, runtime: RuntimeDep, caller: Writer
) -> PilotOut:
    pilot = await handlers.add_milestone(runtime, pilot_id, body.milestone(), caller)
    return PilotOut.of(pilot, today())


@router.post(
    "/{pilot_id}/milestones/{milestone_id}/complete",
    summary="Record a milestone reached",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def complete_milestone(
    pilot_id: str,
    milestone_id: str,
    body: CompleteMilestoneRequest,
    runtime: RuntimeDep,
    caller: Writer,
) -> PilotOut:
    pilot = await handlers.complete_milestone(
        runtime, pilot_id, milestone_id, body.completed_on, caller
    )
    return PilotOut.of(pilot, today())


@router.post(
    "/{pilot_id}/funding",
    status_code=status.HTTP_201_CREATED,
    summary="Record a funding award",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def award_funding(
    pilot_id: str, body: FundingRequest, runtime: RuntimeDep, caller: Writer
) -> PilotOut:
    pilot = await handlers.award_funding(runtime, pilot_id, body.award(), caller)
    return PilotOut.of(pilot, today())


@router.post(
    "/{pilot_id}/indicators",
    status_code=status.HTTP_201_CREATED,
    summary="Define an indicator",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def add_indicator(
    pilot_id: str, body: IndicatorRequest, runtime: RuntimeDep, caller: Writer
) -> PilotOut:
    pilot = await handlers.add_indicator(runtime, pilot_id, body.indicator(), caller)
    return PilotOut.of(pilot, today())


@router.post(
    "/{pilot_id}/progress",
    status_code=status.HTTP_201_CREATED,
    summary="Report progress (idempotent per key)",
    responses=NOT_FOUND | FORBIDDEN | CONFLICT,
)
async def report_progress(
    pilot_id: str,
    body: ProgressRequest,
    runtime: RuntimeDep,
    caller: Writer,
    response: Response,
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(description="One update per key; the same key again returns the first result"),
    ] = None,
) -> ProgressOut:
    """The key comes in the `Idempotency-Key` header or the body's `idempotency_key`.
    A city publisher reports as its own city (`reporting_city_id`); an admin names any.
    A repeat answers like the first (with `Idempotent-Replayed: true`); the same key with a
    different update is 409."""
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise InvalidInputError(
            [FieldProblem(loc=["body", "idempotency_key"], msg="differs from Idempotency-Key")]
        )
    key = idempotency_key or body.idempotency_key
    if not key:
        raise InvalidInputError(
            [FieldProblem(loc=["header", "Idempotency-Key"], msg="an idempotency key is required")]
        )
    result = await handlers.report_progress(
        runtime, pilot_id, body.update(update_id_for(key)), caller
    )
    response.headers["Idempotent-Replayed"] = "true" if result.replayed else "false"
    return ProgressOut(pilot_id=pilot_id, update=result.update)


@router.get("", summary="List pilots")
async def list_pilots(
    runtime: RuntimeDep,
    city: Annotated[str | None, Query(description="Only pilots this city takes part in")] = None,
    role: Annotated[
        Role | None, Query(description="Only pilots with a city in this role (with `city`: it)")
    ] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    cluster: Annotated[str | None, Query(max_length=bounds.NAME_CHARS)] = None,
    theme: Annotated[str | None, Query(max_length=bounds.NAME_CHARS)] = None,
    sdg: Annotated[int | None, Query(ge=1, le=bounds.SDGS, description="SDG goal number")] = None,
    ucap: Annotated[str | None, Query(max_length=bounds.ID_CHARS, description="U-CAP id")] = None,
    updated_since: Annotated[
        str | None, Query(description="A date or ISO date-time: changed at or after it")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before")] = None,
) -> PilotPage:
    """In id order."""
    filters = views.PilotFilters(
        city=city,
        role=role,
        status=status_,
        cluster=cluster,
        theme=theme,
        sdg=sdg,
        ucap=ucap,
        updated_since=_moment("updated_since", updated_since, end_of_day=False)
        if updated_since
        else None,
    )
    page = await views.list_pilots(runtime.database, filters, limit=limit, cursor=cursor)
    day = today()
    return PilotPage(
        items=[PilotOut.of(pilot, day) for pilot in page.items], next_cursor=page.next_cursor
    )


@router.get("/{pilot_id}", summary="One pilot, now or as of a past time", responses=NOT_FOUND)
async def get_pilot(
    pilot_id: str,
    runtime: RuntimeDep,
    as_of: Annotated[
        str | None,
        Query(
            description="A date (2019-12-31: the end of that day, UTC) or ISO date-time: the "
            "pilot as its events recorded by then made it"
        ),
    ] = None,
) -> PilotOut:
    if as_of:
        moment = _moment("as_of", as_of, end_of_day=True)
        pilot = await handlers.pilot_as_of(runtime, pilot_id, moment)
        return PilotOut.of(pilot, min(moment.date(), today()), as_of=moment)
    found = await views.find_pilot(runtime.database, pilot_id)
    if found is None:
        raise NotFoundError(f"no pilot {pilot_id}", pilot_id=pilot_id)
    return PilotOut.of(found, today())


history_router = service_api.history_router(
    prefix="/pilots",
    id_name="pilot_id",
    noun="pilot",
    not_found=lambda pilot_id: NotFoundError(f"no pilot {pilot_id}"),
    dependencies=[Depends(refuse_operator_keys)],
)
