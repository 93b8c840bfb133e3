"""The HTTP API: thin routes that parse, call a command handler, and read the view."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import (
    BaseModel,
    Field,
)

from ucap_cities import handlers
from ucap_cities.domain import CityNotFoundError
from ucap_cities.events import (
    CityKind,
    OrganisationRegistered,
    Population,
    StakeholderKind,
    WorldRegion,
)
from ucap_cities.schemas import (
    JoinClusterRequest,
    RegisterCityRequest,
    StakeholderIn,
    UpdateCityRequest,
)
from ucap_cities.views import CityFilter, find_city, list_cities
from ucap_shared import service_api
from ucap_shared.app import ServiceRuntime
from ucap_shared.auth import Principal, Writer, require
from ucap_shared.errors import ErrorBody
from ucap_shared.service_api import RuntimeDep

# --- response models -------------------------------------------------------------


class StakeholderOut(BaseModel):
    """A stakeholder organisation of a city."""

    id: str = Field(description="Slug, unique within the city")
    name: str = Field(description="The organisation's name")
    kind: StakeholderKind = Field(description="What kind of organisation it is")
    website: str | None = Field(description="Its website, if any")


class CityOut(BaseModel):
    """A city as the service knows it now."""

    id: str = Field(description="Stable slug of the city")
    kind: CityKind = Field(
        default=CityKind.CITY, description="What kind of authority it is (`city` if never set)"
    )
    name: str = Field(description="The city's name in English")
    native_name: str | None = Field(description="The city's name in its own script")
    region: str | None = Field(description="Province, state or region")
    country: str = Field(description="ISO 3166-1 alpha-2 country code")
    world_region: WorldRegion = Field(description="The world region")
    population: Population = Field(description="Population with its year, or unknown")
    area_km2: float | None = Field(description="Area in km², if known")
    clusters: list[str] = Field(description="Thematic clusters the city is in, in joining order")
    stakeholders: list[StakeholderOut] = Field(description="Stakeholder organisations")
    version: int = Field(description="The city's version: the sequence of its latest event")
    registered_at: datetime = Field(description="When the city was registered")
    updated_at: datetime = Field(description="When the city last changed")


class CityPage(BaseModel):
    """One page of cities, in id order."""

    items: list[CityOut] = Field(description="The cities on this page")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


# --- dependencies ----------------------------------------------------------------


async def city_writer(city_id: str, caller: Writer) -> Principal:
    """A caller who may change this city: a publisher of it, or an admin (403 otherwise).

    Checked before the city is looked up, so a refusal says nothing of whether it exists.
    """
    require(caller, caller.acts_for(city_id), f"change the city {city_id!r}")
    return caller


CityWriter = Annotated[Principal, Depends(city_writer)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No valid token for this service"},
    404: {"model": ErrorBody, "description": "No such city (or stakeholder, or membership)"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"model": ErrorBody, "description": "The caller may not change this city"},
    409: {"model": ErrorBody, "description": "Contradicts the city's current state"},
}

router = APIRouter(prefix="/cities", tags=["cities"])


async def _city(runtime: ServiceRuntime, city_id: str) -> CityOut:
    document = await find_city(runtime.database, city_id)
    if document is None:
        raise CityNotFoundError(city_id)
    return CityOut.model_validate(document)


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Register a city", responses=WRITE_ERRORS
)
async def register_city(body: RegisterCityRequest, runtime: RuntimeDep, caller: Writer) -> CityOut:
    """A city publisher registers only its own city; an admin any."""
    require(caller, caller.acts_for(body.id), f"register the city {body.id!r}")
    await handlers.register_city(runtime, body.command(), caller.subject)
    return await _city(runtime, body.id)


@router.get("", summary="List cities, filtered, one page at a time")
async def list_all(
    runtime: RuntimeDep,
    country: Annotated[str | None, Query(description="Only cities of this country")] = None,
    world_region: Annotated[
        WorldRegion | None, Query(description="Only cities of this world region")
    ] = None,
    cluster: Annotated[str | None, Query(description="Only cities in this cluster")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> CityPage:
    where = CityFilter(
        country=country,
        world_region=world_region.value if world_region else None,
        cluster=cluster,
    )
    documents, next_cursor = await list_cities(runtime.database, where, limit=limit, after=cursor)
    return CityPage(items=[CityOut.model_validate(d) for d in documents], next_cursor=next_cursor)


@router.get("/{city_id}", summary="One city", responses=ERRORS)
async def get_city(city_id: str, runtime: RuntimeDep) -> CityOut:
    return await _city(runtime, city_id)


@router.patch(
    "/{city_id}",
    summary="Change a city's profile; only the fields that differ are recorded",
    responses=WRITE_ERRORS,
)
async def update_city(
    city_id: str, body: UpdateCityRequest, runtime: RuntimeDep, caller: CityWriter
) -> CityOut:
    await handlers.update_profile(runtime, city_id, body.changes(), caller.subject)
    return await _city(runtime, city_id)


@router.post(
    "/{city_id}/stakeholders",
    status_code=status.HTTP_201_CREATED,
    summary="Add a stakeholder organisation",
    responses=WRITE_ERRORS,
)
async def add_stakeholder(
    city_id: str, body: StakeholderIn, runtime: RuntimeDep, caller: CityWriter
) -> CityOut:
    await handlers.add_stakeholder(runtime, city_id, body.data(), caller.subject)
    return await _city(runtime, city_id)


@router.delete(
    "/{city_id}/stakeholders/{stakeholder_id}",
    summary="Remove a stakeholder organisation",
    responses=WRITE_ERRORS,
)
async def remove_stakeholder(
    city_id: str, stakeholder_id: str, runtime: RuntimeDep, caller: CityWriter
) -> CityOut:
    await handlers.remove_stakeholder(runtime, city_id, stakeholder_id, caller.subject)
    return await _city(runtime, city_id)


@router.post(
    "/{city_id}/clusters",
    status_code=status.HTTP_201_CREATED,
    summary="Join a thematic cluster",
    responses=WRITE_ERRORS,
)
async def join_cluster(
    city_id: str, body: JoinClusterRequest, runtime: RuntimeDep, caller: CityWriter
) -> CityOut:
    await handlers.join_cluster(runtime, city_id, body.cluster, caller.subject)
    return await _city(runtime, city_id)


@router.delete(
    "/{city_id}/clusters/{cluster}", summary="Leave a thematic cluster", responses=WRITE_ERRORS
)
async def leave_cluster(
    city_id: str, cluster: str, runtime: RuntimeDep, caller: CityWriter
) -> CityOut:
    await handlers.leave_cluster(runtime, city_id, cluster, caller.subject)
    return await _city(runtime, city_id)


history_router = service_api.history_router(
    prefix="/cities",
    id_name="city_id",
    noun="city",
    not_found=CityNotFoundError,
    first_of_mine=lambda first: first.type != OrganisationRegistered.event_type,
)
