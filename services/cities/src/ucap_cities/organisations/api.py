"""The HTTP API of organisations with no city: register one, read one, list them."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from ucap_cities.events import OrganisationRegistered, OrganisationScope, StakeholderKind
from ucap_cities.organisations import handlers
from ucap_cities.organisations.domain import OrganisationNotFoundError
from ucap_cities.organisations.views import (
    OrganisationFilter,
    find_organisation,
    list_organisations,
)
from ucap_cities.schemas import CountryCode, Slug, Text
from ucap_shared.app import ServiceRuntime
from ucap_shared.auth import Writer
from ucap_shared.errors import ErrorBody, FieldProblem, InvalidInputError
from ucap_shared.service_api import RuntimeDep

READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No valid token for this service"},
    404: {"model": ErrorBody, "description": "No such organisation"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: READ_ERRORS[401],
    403: {"model": ErrorBody, "description": "A reader may not register organisations"},
    409: {"model": ErrorBody, "description": "The id names an organisation or a city already"},
}


class RegisterOrganisationRequest(BaseModel):
    """An organisation that belongs to no one city: a national or international body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "uk-china-biotech-fund",
                    "name": "UK-China Biotech Fund",
                    "native_name": None,
                    "kind": "other",
                    "scope": "international",
                    "country": None,
                    "website": None,
                },
                {
                    "organisation_id": "china-center-for-urban-development",
                    "name": "China Center for Urban Development",
                    "native_name": "中国城市和小城镇改革发展中心",
                    "kind": "other",
                    "scope": "national",
                    "country": "CN",
                    "website": None,
                },
            ]
        },
    )

    organisation_id: Slug = Field(description="Stable slug, e.g. `uk-china-biotech-fund`")
    name: Text = Field(description="The organisation's name")
    native_name: Text | None = Field(default=None, description="The name in its own script")
    kind: StakeholderKind = Field(description="What kind of organisation it is")
    scope: OrganisationScope = Field(description="`national` or `international`")
    country: CountryCode | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country code; required when national"
    )
    website: HttpUrl | None = Field(default=None, description="Its website, if any")

    def event(self) -> OrganisationRegistered:
        """The event to record; 422 on ``country`` for a national one without it."""
        if self.scope is OrganisationScope.NATIONAL and self.country is None:
            problem = FieldProblem(
                loc=["body", "country"], msg="a national organisation needs its country"
            )
            raise InvalidInputError([problem])
        return OrganisationRegistered(
            organisation_id=self.organisation_id,
            name=self.name,
            native_name=self.native_name,
            kind=self.kind,
            scope=self.scope,
            country=self.country,
            website=str(self.website) if self.website else None,
        )


class OrganisationOut(BaseModel):
    """An organisation with no city, as the service knows it now."""

    organisation_id: str = Field(description="Stable slug of the organisation")
    name: str = Field(description="The organisation's name")
    native_name: str | None = Field(description="The name in its own script")
    kind: StakeholderKind = Field(description="What kind of organisation it is")
    scope: OrganisationScope = Field(description="`national` or `international`")
    country: str | None = Field(description="ISO 3166-1 alpha-2 country code, if any")
    website: str | None = Field(description="Its website, if any")
    version: int = Field(description="The sequence of its latest event")
    registered_at: datetime = Field(description="When it was registered")
    updated_at: datetime = Field(description="When it last changed")


class OrganisationPage(BaseModel):
    """One page of organisations, in id order."""

    items: list[OrganisationOut] = Field(description="The organisations on this page")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


router = APIRouter(prefix="/organisations", tags=["organisations"])


async def _organisation(runtime: ServiceRuntime, organisation_id: str) -> OrganisationOut:
    document = await find_organisation(runtime.database, organisation_id)
    if document is None:
        raise OrganisationNotFoundError(organisation_id)
    return OrganisationOut.model_validate(document)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an organisation that belongs to no one city",
    responses=WRITE_ERRORS,
)
async def register_organisation(
    body: RegisterOrganisationRequest, runtime: RuntimeDep, caller: Writer
) -> OrganisationOut:
    """Any writer (a city publisher or an admin): it belongs to no city, and a city system
    may need one as a party to its MoU. Its id is unique among organisations and cities."""
    await handlers.register_organisation(runtime, body.event(), caller.subject)
    return await _organisation(runtime, body.organisation_id)


@router.get("", summary="List organisations with no city, one page at a time")
async def list_all(
    runtime: RuntimeDep,
    scope: Annotated[OrganisationScope | None, Query(description="Only this scope")] = None,
    country: Annotated[str | None, Query(description="Only those of this country")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> OrganisationPage:
    where = OrganisationFilter(scope=scope.value if scope else None, country=country)
    documents, next_cursor = await list_organisations(
        runtime.database, where, limit=limit, after=cursor
    )
    return OrganisationPage(
        items=[OrganisationOut.model_validate(d) for d in documents], next_cursor=next_cursor
    )


@router.get("/{organisation_id}", summary="One organisation", responses=READ_ERRORS)
async def get_organisation(organisation_id: str, runtime: RuntimeDep) -> OrganisationOut:
    return await _organisation(runtime, organisation_id)
