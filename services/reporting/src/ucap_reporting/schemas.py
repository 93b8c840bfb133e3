"""The bodies the HTTP API takes: U-CAPs, activities, deliveries."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from ucap_reporting.events import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Deliverable,
    DeliverableKind,
    DeliveryStatus,
    Period,
    Theme,
    UcapCreated,
)
from ucap_shared import bounds
from ucap_shared.dates import PartialDate

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

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
    status: ActivityStatus = Field(
        default=ActivityStatus.HELD,
        description="planned, held, cancelled or postponed; only held ones count as held",
    )
    end_date: PartialDate | None = Field(
        default=None, description="Last day of an activity over several days (not before `date`)"
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
    status: ActivityStatus | None = None
    end_date: PartialDate | None = Field(default=None, description="null: one day")


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
