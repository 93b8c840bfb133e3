"""The HTTP API: thin routes from requests to command handlers and view queries."""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from ucap_reporting import capacity, handlers, views
from ucap_reporting.asof import end_of, status_as_of
from ucap_reporting.domain import Ucap
from ucap_reporting.events import (
    Activity,
    ActivityKind,
    Deliverable,
    DeliverableKind,
    DeliveryStatus,
    Period,
    Theme,
    UcapCreated,
)
from ucap_reporting.programme import Filters, ProgrammeStatus, read_programme
from ucap_reporting.status import UcapStatus, status_of
from ucap_shared import bounds
from ucap_shared.api_docs import VALIDATION_ERROR_REF, error_response
from ucap_shared.app import ServiceRuntime
from ucap_shared.auth import Writer
from ucap_shared.consumer import TopicFreshness
from ucap_shared.dates import PartialDate
from ucap_shared.errors import ErrorBody, NotFoundError
from ucap_shared.topics import events_topic

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SOURCE_TOPICS = tuple(events_topic(s) for s in ("cities", "mous", "pilots"))


async def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime_of)]
AsOfQuery = Annotated[
    date | None, Query(description="The state at the end of this day (UTC), YYYY-MM-DD")
]

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


def today() -> date:
    return datetime.now(UTC).date()


def freshness(runtime: ServiceRuntime) -> list[TopicFreshness]:
    """Per source topic, in a fixed order; a topic not consumed yet reads as unknown."""
    known = {f.topic: f for f in runtime.freshness()}
    topics = (*SOURCE_TOPICS, runtime.own_topic)
    return [known.get(topic) or TopicFreshness(topic=topic) for topic in topics]


# --- requests -----------------------------------------------------------------

_THEME_EXAMPLE: dict[str, JsonValue] = {
    "title": "Life Sciences and Healthy City",
    "key_focus": "Joint pilot and demonstration projects in life sciences and healthy city",
}

Id = Annotated[str, Field(max_length=bounds.ID_CHARS)]
Name = Annotated[str, Field(max_length=bounds.NAME_CHARS)]
Paragraphs = Annotated[str, Field(max_length=bounds.TEXT_CHARS)]


class ThemeIn(BaseModel):
    """A cooperation theme with the key focus of the cooperation in it."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(
        min_length=1, max_length=bounds.NAME_CHARS, examples=["Life Sciences and Healthy City"]
    )
    key_focus: Paragraphs = Field(default="", description="What the cooperation focuses on")

    def theme(self) -> Theme:
        return Theme(title=self.title, key_focus=self.key_focus)


class DeliverableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=bounds.TITLE_CHARS, examples=["Finalised U-CAP"])
    date: PartialDate = Field(description="When it was delivered")
    kind: DeliverableKind
    url: str | None = Field(
        default=None, max_length=bounds.URL_CHARS, description="Where to read it"
    )

    def deliverable(self) -> Deliverable:
        return Deliverable(title=self.title, date=self.date, kind=self.kind, url=self.url)


class UcapFields(BaseModel):
    """The U-CAP's sections; in a PATCH, every field is optional and only those sent change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(
        default=None, min_length=1, max_length=bounds.TITLE_CHARS, examples=["Granada U-CAP"]
    )
    lead_city_id: Id | None = Field(default=None, description="The European lead city")
    counterpart_city_ids: list[Id] | None = Field(
        default=None,
        max_length=bounds.ITEMS_PER_LIST,
        description="Counterpart cities",
        examples=[["haikou", "kunming"]],
    )
    period: Period | None = Field(default=None, description="Period of cooperation")
    themes: list[ThemeIn] | None = Field(
        default=None,
        max_length=bounds.THEMES_PER_LIST,
        description="Cooperation themes with key focus",
        examples=[[_THEME_EXAMPLE]],
    )
    sdgs: list[int] | None = Field(
        default=None, max_length=bounds.SDGS, description="SDG numbers", examples=[[3, 4, 9, 11]]
    )
    urban_agenda_themes: list[Name] | None = Field(
        default=None,
        max_length=bounds.THEMES_PER_LIST,
        description="EU Urban Agenda themes",
        examples=[["Digital Transition"]],
    )
    key_challenges: list[Paragraphs] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    main_objectives: list[Paragraphs] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    expected_results: str | None = Field(default=None, max_length=bounds.SECTION_CHARS)
    contact: str | None = Field(
        default=None, max_length=bounds.NOTE_CHARS, examples=["IUC-ASIA_office@iuc-asia.eu"]
    )
    deliverables: list[DeliverableIn] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)

    def themes_given(self) -> tuple[Theme, ...] | None:
        return None if self.themes is None else tuple(theme.theme() for theme in self.themes)

    def deliverables_given(self) -> tuple[Deliverable, ...] | None:
        if self.deliverables is None:
            return None
        return tuple(deliverable.deliverable() for deliverable in self.deliverables)

    def changes(self) -> dict[str, Any]:
        """The fields sent, as the domain takes them: lists as tuples of its own values."""
        given: dict[str, Any] = {
            "themes": self.themes_given(),
            "deliverables": self.deliverables_given(),
        }
        changes: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = given[name] if name in given else getattr(self, name)
            changes[name] = tuple(value) if isinstance(value, list) else value
        return changes


class CreateUcapRequest(UcapFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "granada-ucap",
                    "title": "Granada U-CAP",
                    "lead_city_id": "granada",
                    "counterpart_city_ids": ["haikou", "kunming", "liuzhou", "zhengzhou"],
                    "period": {"from": "2018-06", "until": "2020-11"},
                    "themes": [_THEME_EXAMPLE],
                    "sdgs": [3, 4, 9, 11],
                    "urban_agenda_themes": ["Culture/Cultural Heritage", "Digital Transition"],
                }
            ]
        },
    )

    id: str = Field(pattern=SLUG_PATTERN, max_length=bounds.ID_CHARS, examples=["granada-ucap"])
    title: str = Field(min_length=1, max_length=bounds.TITLE_CHARS, examples=["Granada U-CAP"])
    lead_city_id: Id = Field(description="The European lead city", examples=["granada"])
    counterpart_city_ids: list[Id] = Field(
        min_length=1,
        max_length=bounds.ITEMS_PER_LIST,
        description="Counterpart cities",
        examples=[["haikou", "kunming"]],
    )

    def command(self) -> UcapCreated:
        return UcapCreated(
            ucap_id=self.id,
            title=self.title,
            lead_city_id=self.lead_city_id,
            counterpart_city_ids=tuple(self.counterpart_city_ids),
            period=self.period,
            themes=self.themes_given() or (),
            sdgs=tuple(self.sdgs or ()),
            urban_agenda_themes=tuple(self.urban_agenda_themes or ()),
            key_challenges=tuple(self.key_challenges or ()),
            main_objectives=tuple(self.main_objectives or ()),
            expected_results=self.expected_results,
            contact=self.contact,
            deliverables=self.deliverables_given() or (),
        )


class ActivityIn(BaseModel):
    """One dated entry of the U-CAP's activity timeline."""

    model_config = ConfigDict(extra="forbid")

    activity_id: str = Field(
        min_length=1, max_length=bounds.ID_CHARS, examples=["2018-07-first-meeting"]
    )
    date: PartialDate = Field(description="When; month precision is common")
    kind: ActivityKind
    ordinal: int | None = Field(default=None, ge=1, description='5 for "Fifth meeting"')
    title: str = Field(min_length=1, max_length=bounds.TITLE_CHARS)
    places: list[Name] = Field(default_factory=list, max_length=bounds.ITEMS_PER_LIST)
    city_ids: list[Id] = Field(
        default_factory=list, max_length=bounds.ITEMS_PER_LIST, description="Participating cities"
    )
    outcome: Paragraphs = Field(default="", description="What came of it")
    mou_ids: list[Id] = Field(
        default_factory=list, max_length=bounds.ITEMS_PER_LIST, description="MoUs it produced"
    )
    pilot_ids: list[Id] = Field(
        default_factory=list, max_length=bounds.ITEMS_PER_LIST, description="Pilots it produced"
    )

    def activity(self) -> Activity:
        return Activity.model_validate(self.model_dump())


class ActivityChanges(BaseModel):
    """Fields of an activity to change; those not sent keep their values."""

    model_config = ConfigDict(extra="forbid")

    date: PartialDate | None = None
    kind: ActivityKind | None = None
    ordinal: int | None = Field(default=None, ge=1)
    title: str | None = Field(default=None, min_length=1, max_length=bounds.TITLE_CHARS)
    places: list[Name] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    city_ids: list[Id] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    outcome: Paragraphs | None = None
    mou_ids: list[Id] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)
    pilot_ids: list[Id] | None = Field(default=None, max_length=bounds.ITEMS_PER_LIST)


class DeliverRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "status": "final",
                    "delivered_on": "2020-05",
                    "deliverable": {"title": "Finalised U-CAP", "date": "2020-05", "kind": "ucap"},
                }
            ]
        },
    )

    status: DeliveryStatus = Field(description="`delivered` or `final`")
    delivered_on: PartialDate
    deliverable: DeliverableIn | None = Field(default=None, description="What was delivered")


# --- responses ----------------------------------------------------------------


class UcapPage(BaseModel):
    items: list[Ucap]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class HistoryEntry(BaseModel):
    sequence: int = Field(description="The U-CAP's version after this event")
    type: str = Field(examples=["ucap.ucap.activity_logged.v1"])
    time: datetime
    actor: str = Field(examples=["city:granada"])
    data: dict[str, Any]


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


@router.get("/ucaps/{ucap_id}", summary="One U-CAP, now or as of a date", responses=NOT_FOUND)
async def get_ucap(ucap_id: str, runtime: RuntimeDep, as_of: AsOfQuery = None) -> Ucap:
    if as_of is not None:
        return await handlers.ucap_as_of(runtime, ucap_id, end_of(as_of))
    ucap = await views.find_ucap(runtime.database, ucap_id)
    if ucap is None:
        raise NotFoundError(f"no U-CAP {ucap_id}", ucap_id=ucap_id)
    return ucap


@router.get(
    "/ucaps/{ucap_id}/history", summary="Every event of the U-CAP, in order", responses=NOT_FOUND
)
async def ucap_history(ucap_id: str, runtime: RuntimeDep) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            sequence=envelope.sequence,
            type=envelope.type,
            time=envelope.time,
            actor=envelope.actor,
            data=envelope.data,
        )
        for envelope in await handlers.history(runtime, ucap_id)
    ]


@router.get(
    "/ucaps/{ucap_id}/status",
    summary="The consolidated status of a U-CAP",
    responses=NOT_FOUND,
    tags=["status"],
)
async def ucap_status(ucap_id: str, runtime: RuntimeDep, as_of: AsOfQuery = None) -> UcapStatus:
    """The U-CAP with its counterpart cities' profiles, the MoUs between the lead and each
    counterpart, the pilots grouped by counterpart city, figures, attention flags (for today,
    or for `as_of`), and how fresh each source topic is. With `as_of`, the status is rebuilt
    from the events up to the end of that day (slower: it reads the source topics)."""
    if as_of is not None:
        found = await status_as_of(runtime, ucap_id, as_of)
    else:
        document = await views.status_document(runtime.database, ucap_id)
        found = status_of(document, today(), freshness(runtime)) if document else None
    if found is None:
        raise NotFoundError(f"no U-CAP {ucap_id}", ucap_id=ucap_id)
    if as_of is not None:
        found = found.model_copy(update={"freshness": freshness(runtime)})
    return found


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
