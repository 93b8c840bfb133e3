"""``GET /programme/iati-activities.xml``: the programme's pilots as IATI 2.03 activities."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ucap_gateway.compose import UpstreamAnswerError
from ucap_gateway.iati import IatiDocument
from ucap_gateway.iati_sources import IatiSourceUnavailableError
from ucap_gateway.kept import Keeper
from ucap_gateway.kept_answers import ProgrammeKey
from ucap_gateway.status_routes import ProgrammeFilters, passed_on

router = APIRouter(tags=["status"])
XML = "application/xml"
PATH = "/programme/iati-activities.xml"


def iati_keeper_of(request: Request) -> Keeper[ProgrammeKey, IatiDocument]:
    keeper: Keeper[ProgrammeKey, IatiDocument] = request.app.state.iati_keeper
    return keeper


def unavailable(error: Exception) -> Response:
    if isinstance(error, UpstreamAnswerError):
        return passed_on(error)
    service = error.service if isinstance(error, IatiSourceUnavailableError) else "gateway"
    reason = error.reason if isinstance(error, IatiSourceUnavailableError) else repr(error)
    return JSONResponse(
        status_code=503,
        content={
            "error": "iati_unavailable",
            "detail": f"the {service} service, which the IATI activities need, is "
            f"unavailable: {reason}",
            "service": service,
        },
        headers={"Retry-After": "5"},
    )


@router.get(
    PATH,
    summary="The pilots of the U-CAPs these filters select, as IATI 2.03 activities",
    description="An `iati-activities` document (IATI activity standard 2.03) for aid "
    "transparency systems: one `iati-activity` per pilot, with the same filters as "
    "`/programme/status`. Kept compiled like the programme page; see the README, 'IATI'.",
    response_class=Response,
    responses={
        200: {
            "content": {XML: {"schema": {"type": "string"}}},
            "description": "The activities, as IATI 2.03 XML",
        },
        304: {"description": "Unchanged since the ETag given in If-None-Match"},
        503: {"description": "A service the activities need is unavailable"},
    },
)
async def programme_iati_activities(request: Request, filters: ProgrammeFilters) -> Response:
    snapshot = await iati_keeper_of(request).get(tuple(sorted(filters.items())))
    if snapshot.value is None or snapshot.etag is None:
        assert snapshot.error is not None
        return unavailable(snapshot.error)
    headers = {"ETag": snapshot.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == snapshot.etag:
        return Response(status_code=304, headers=headers)
    return Response(snapshot.value.body, media_type=XML, headers=headers)
