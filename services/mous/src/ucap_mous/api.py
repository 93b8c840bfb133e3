"""The HTTP API: thin routes from requests to command handlers and view queries."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from ucap_mous import access, handlers, views
from ucap_mous.domain import Amendment, MoU, Signature, Status, Termination
from ucap_mous.events import LinkedDocument, Party
from ucap_mous.schemas import (
    AmendmentRequest,
    DraftMouRequest,
    PartyIn,
    SignatureRequest,
    TerminationRequest,
)
from ucap_shared import service_api
from ucap_shared.auth import Writer
from ucap_shared.dates import ISO_PATTERN, PartialDate, today
from ucap_shared.errors import ErrorBody, FieldProblem, InvalidInputError, NotFoundError
from ucap_shared.service_api import RuntimeDep

UNAUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No valid token for this service"}
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorBody,
        "description": "A reader, or a city publisher acting for a city not party to the MoU",
    }
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No MoU with this id"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The MoU's current state forbids this change"}
}

# --- responses ----------------------------------------------------------------


class MouOut(BaseModel):
    """A MoU as it stands today."""

    id: str = Field(examples=["granada-zhengzhou-2018"])
    title: str
    subject: str
    status: Status = Field(description="Derived from signatures, validity and today's date")
    parties: list[Party]
    themes: list[str]
    signed_on: PartialDate | None = Field(
        description="When the last party signed; null until all have, and when a signature's"
        " date is not known"
    )
    signatures: list[Signature]
    valid_from: PartialDate | None
    valid_until: PartialDate | None
    drafted_on: PartialDate | None = Field(
        description="When it was drafted, as its parties date it; null: not given"
    )
    amendments: list[Amendment]
    termination: Termination | None
    expired_on: PartialDate | None = Field(description="When its expiry was recorded, if it was")
    documents: list[LinkedDocument]

    @classmethod
    def of(cls, mou: MoU) -> "MouOut":
        return cls(
            id=mou.mou_id,
            title=mou.title,
            subject=mou.subject,
            status=mou.status_on(today()),
            parties=list(mou.parties),
            themes=list(mou.themes),
            signed_on=mou.signed_on,
            signatures=list(mou.signatures),
            valid_from=mou.valid_from,
            valid_until=mou.valid_until,
            drafted_on=mou.drafted_on,
            amendments=list(mou.amendments),
            termination=mou.termination,
            expired_on=mou.expired_on,
            documents=list(mou.documents),
        )


class MouPage(BaseModel):
    items: list[MouOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class ExpiryCheckResult(BaseModel):
    expired: list[str] = Field(description="MoUs whose expiry this check recorded")


# --- routes -------------------------------------------------------------------

router = APIRouter(prefix="/mous", tags=["mous"], responses=UNAUTHENTICATED)
WRITE = FORBIDDEN | NOT_FOUND | CONFLICT


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a MoU",
    responses=FORBIDDEN | {409: {"model": ErrorBody, "description": "A MoU with this id exists"}},
)
async def draft_mou(body: DraftMouRequest, runtime: RuntimeDep, caller: Writer) -> MouOut:
    """Parties must be cities this service knows, their stakeholders, or organisations with
    no city it knows; stakeholders must be their city's. A city system drafts only MoUs its
    own city is a party to."""
    return MouOut.of(await handlers.draft_mou(runtime, body.command(), caller))


@router.post(
    "/expiry-check",
    summary="Record the expiry of MoUs whose validity has ended, now",
    responses={403: {"model": ErrorBody, "description": "Only an operator (admin) runs it"}},
)
async def expiry_check(runtime: RuntimeDep, caller: Writer) -> ExpiryCheckResult:
    """What the scheduled check does every `UCAP_MOUS_EXPIRY_CHECK_SECONDS`."""
    access.check_expiry_run(caller)
    return ExpiryCheckResult(expired=await handlers.check_expiries(runtime, actor=caller.subject))


@router.post(
    "/{mou_id}/parties",
    status_code=status.HTTP_201_CREATED,
    summary="Add a party (a city or an organisation)",
    responses=WRITE,
)
async def add_party(mou_id: str, body: PartyIn, runtime: RuntimeDep, caller: Writer) -> MouOut:
    """Refused (409) once every party has signed, or when the MoU is expired or terminated.
    A city system adds parties only to MoUs its city is a party to."""
    return MouOut.of(await handlers.add_party(runtime, mou_id, body.party(), caller))


@router.post(
    "/{mou_id}/signatures",
    status_code=status.HTTP_201_CREATED,
    summary="Record one party's signature",
    responses=WRITE,
)
async def sign_mou(
    mou_id: str, body: SignatureRequest, runtime: RuntimeDep, caller: Writer
) -> MouOut:
    """409 when the party is not one, has signed already, or the MoU is expired or
    terminated. 403 when a city system signs for another city or a MoU its city is not a
    party to. The MoU is signed once every party has; `signed_on` null records a signature
    whose date is not known (the MoU's `signed_on` is then null too)."""
    party = access.signing_party(caller, body.city_id, body.organisation_id)
    signature = body.signature(party)
    return MouOut.of(await handlers.sign_mou(runtime, mou_id, signature, caller))


@router.post(
    "/{mou_id}/amendments",
    status_code=status.HTTP_201_CREATED,
    summary="Record an amendment",
    responses=WRITE,
)
async def amend_mou(
    mou_id: str, body: AmendmentRequest, runtime: RuntimeDep, caller: Writer
) -> MouOut:
    """409 when the MoU is expired or terminated; 403 for a city system not a party to it."""
    return MouOut.of(await handlers.amend_mou(runtime, mou_id, body.amendment(), caller))


@router.post(
    "/{mou_id}/termination",
    status_code=status.HTTP_201_CREATED,
    summary="Terminate the MoU",
    responses=WRITE,
)
async def terminate_mou(
    mou_id: str, body: TerminationRequest, runtime: RuntimeDep, caller: Writer
) -> MouOut:
    """409 when the MoU is already expired or terminated; 403 for a city system not a party
    to it."""
    return MouOut.of(await handlers.terminate_mou(runtime, mou_id, body.termination(), caller))


def _partial_date(name: str, value: str | None) -> PartialDate | None:
    if value is None:
        return None
    try:
        return PartialDate.parse(value)
    except ValueError as error:
        raise InvalidInputError([FieldProblem(loc=["query", name], msg=str(error))]) from error


DateQuery = Annotated[
    str | None,
    Query(pattern=ISO_PATTERN, description="A date: 2018, 2018-07 or 2018-07-15"),
]


@router.get("", summary="List MoUs by signing date")
async def list_mous(
    runtime: RuntimeDep,
    city: Annotated[str | None, Query(description="Only MoUs this city is a party to")] = None,
    status_: Annotated[
        Status | None, Query(alias="status", description="Only MoUs in this status today")
    ] = None,
    theme: Annotated[str | None, Query(description="Only MoUs with this theme")] = None,
    signed_from: DateQuery = None,
    signed_until: DateQuery = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before")] = None,
) -> MouPage:
    """Ordered by the date the last party signed (not fully signed MoUs last), then id.
    `signed_from`/`signed_until` keep MoUs concluded within those dates, inclusive at their
    precision (`signed_until=2018-07` includes 2018-07-31)."""
    filters = views.MouFilters(
        city=city,
        status=status_,
        theme=theme,
        signed_from=_partial_date("signed_from", signed_from),
        signed_until=_partial_date("signed_until", signed_until),
    )
    page = await views.list_mous(runtime.database, filters, today(), limit=limit, cursor=cursor)
    return MouPage(items=[MouOut.of(mou) for mou in page.items], next_cursor=page.next_cursor)


@router.get("/{mou_id}", summary="One MoU", responses=NOT_FOUND)
async def get_mou(mou_id: str, runtime: RuntimeDep) -> MouOut:
    mou = await views.find_mou(runtime.database, mou_id)
    if mou is None:
        raise NotFoundError(f"no MoU {mou_id}", mou_id=mou_id)
    return MouOut.of(mou)


history_router = service_api.history_router(
    prefix="/mous",
    id_name="mou_id",
    noun="MoU",
    not_found=lambda mou_id: NotFoundError(f"no MoU {mou_id}"),
)
