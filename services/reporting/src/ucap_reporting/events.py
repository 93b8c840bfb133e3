"""The events the reporting service publishes on ``ucap.reporting.events``.

One aggregate: the U-CAP (aggregate id = U-CAP id, e.g. ``granada-ucap``). The
type strings and field names are a contract; a breaking change is a new ``.vN``.
"""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from ucap_shared.dates import PartialDate
from ucap_shared.events import EventData

_value = ConfigDict(frozen=True, extra="forbid")


class Period(BaseModel):
    """Period of cooperation; ``from`` on the wire (a Python keyword, hence ``from_``)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True
    )

    from_: PartialDate = Field(alias="from", description="Start of the cooperation")
    until: PartialDate | None = Field(default=None, description="End; null: open-ended")


class Theme(BaseModel):
    """A cooperation theme with the key focus of the cooperation in it."""

    model_config = _value

    title: str = Field(min_length=1, examples=["Life Sciences and Healthy City"])
    key_focus: str = Field(default="", description="What the cooperation focuses on")


class DeliverableKind(StrEnum):
    UCAP = "ucap"
    CONCEPT_NOTE = "concept_note"
    REPORT = "report"


class Deliverable(BaseModel):
    model_config = _value

    title: str = Field(min_length=1, examples=["Finalised U-CAP"])
    date: PartialDate = Field(description="When it was delivered")
    kind: DeliverableKind
    url: str | None = Field(default=None, description="Where to read it")


class ActivityKind(StrEnum):
    MEETING = "meeting"
    MISSION = "mission"
    VISIT = "visit"
    WEBINAR = "webinar"
    FORUM = "forum"
    FUND_APPLICATION = "fund_application"
    FUND_AWARD = "fund_award"
    DELIVERY = "delivery"
    VIRTUAL_EXCHANGE = "virtual_exchange"


class ActivityStatus(StrEnum):
    """Whether an activity took place; only ``held`` ones count as held."""

    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"


class Activity(BaseModel):
    """One dated entry of the U-CAP's activity timeline."""

    model_config = _value

    activity_id: str = Field(min_length=1, examples=["2018-07-first-meeting"])
    date: PartialDate = Field(description="When; month precision is common")
    kind: ActivityKind
    ordinal: int | None = Field(default=None, ge=1, description='5 for "Fifth meeting"')
    title: str = Field(min_length=1)
    places: tuple[str, ...] = ()
    city_ids: tuple[str, ...] = Field(default=(), description="Participating cities")
    outcome: str = Field(default="", description="What came of it")
    mou_ids: tuple[str, ...] = Field(default=(), description="MoUs it produced")
    pilot_ids: tuple[str, ...] = Field(default=(), description="Pilots it produced")
    status: ActivityStatus = Field(
        default=ActivityStatus.HELD, description="planned, held, cancelled or postponed"
    )
    end_date: PartialDate | None = Field(
        default=None, description="Last day of an activity over several days; null: one day"
    )


class DeliveryStatus(StrEnum):
    DRAFT = "draft"
    DELIVERED = "delivered"
    FINAL = "final"


class Section(StrEnum):
    """The parts of a U-CAP edited together; each lists its fields in ``SECTION_FIELDS``."""

    TITLE = "title"
    CITIES = "cities"
    PERIOD = "period"
    THEMES = "themes"
    GOALS = "goals"
    CHALLENGES = "challenges"
    OBJECTIVES = "objectives"
    EXPECTED_RESULTS = "expected_results"
    CONTACT = "contact"
    DELIVERABLES = "deliverables"


SECTION_FIELDS: dict[Section, tuple[str, ...]] = {
    Section.TITLE: ("title",),
    Section.CITIES: ("lead_city_id", "counterpart_city_ids"),
    Section.PERIOD: ("period",),
    Section.THEMES: ("themes",),
    Section.GOALS: ("sdgs", "urban_agenda_themes"),
    Section.CHALLENGES: ("key_challenges",),
    Section.OBJECTIVES: ("main_objectives",),
    Section.EXPECTED_RESULTS: ("expected_results",),
    Section.CONTACT: ("contact",),
    Section.DELIVERABLES: ("deliverables",),
}

_GRANADA_THEME: dict[str, JsonValue] = {
    "title": "Life Sciences and Healthy City",
    "key_focus": "Promote joint activities between the stakeholders of the cities involved.",
}


class UcapCreated(EventData):
    event_type = "ucap.ucap.created.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ucap_id": "granada-ucap",
                    "title": "Granada U-CAP",
                    "lead_city_id": "granada",
                    "counterpart_city_ids": ["haikou", "kunming", "liuzhou", "zhengzhou"],
                    "period": {"from": "2018-06", "until": "2020-11"},
                    "themes": [_GRANADA_THEME],
                    "sdgs": [3, 4, 9, 11],
                    "urban_agenda_themes": ["Culture/Cultural Heritage", "Digital Transition"],
                    "key_challenges": ["Internationalisation of Granada start-ups"],
                    "main_objectives": ["Launch concrete cooperation projects"],
                    "expected_results": "Pilot project proposals",
                    "contact": "IUC-ASIA_office@iuc-asia.eu",
                    "deliverables": [],
                }
            ]
        },
    )

    ucap_id: str = Field(description="The U-CAP's id")
    title: str = Field(description="The U-CAP's title")
    lead_city_id: str = Field(description="The European lead city")
    counterpart_city_ids: tuple[str, ...] = Field(description="Its counterpart cities")
    period: Period | None = Field(description="Period of cooperation")
    themes: tuple[Theme, ...] = Field(description="Cooperation themes with key focus")
    sdgs: tuple[int, ...] = Field(description="Related SDG numbers (1-17)")
    urban_agenda_themes: tuple[str, ...] = Field(description="Related EU Urban Agenda themes")
    key_challenges: tuple[str, ...] = Field(description="Key challenges")
    main_objectives: tuple[str, ...] = Field(description="Main objectives")
    expected_results: str | None = Field(description="Expected results and benefits")
    contact: str | None = Field(description="Contact for further information")
    deliverables: tuple[Deliverable, ...] = Field(description="Deliverables so far")


class UcapSectionUpdated(EventData):
    """One section's new content: the fields of ``section`` (``SECTION_FIELDS``), all of
    them, null where cleared; the other fields are null and mean nothing."""

    event_type = "ucap.ucap.section_updated.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ucap_id": "granada-ucap",
                    "section": "goals",
                    "title": None,
                    "lead_city_id": None,
                    "counterpart_city_ids": None,
                    "period": None,
                    "themes": None,
                    "sdgs": [3, 4, 9, 11],
                    "urban_agenda_themes": ["Digital Transition"],
                    "key_challenges": None,
                    "main_objectives": None,
                    "expected_results": None,
                    "contact": None,
                    "deliverables": None,
                }
            ]
        },
    )

    ucap_id: str
    section: Section = Field(description="Which section changed")
    title: str | None = None
    lead_city_id: str | None = None
    counterpart_city_ids: tuple[str, ...] | None = None
    period: Period | None = None
    themes: tuple[Theme, ...] | None = None
    sdgs: tuple[int, ...] | None = None
    urban_agenda_themes: tuple[str, ...] | None = None
    key_challenges: tuple[str, ...] | None = None
    main_objectives: tuple[str, ...] | None = None
    expected_results: str | None = None
    contact: str | None = None
    deliverables: tuple[Deliverable, ...] | None = None


_GRANADA_ACTIVITY: dict[str, JsonValue] = {
    "activity_id": "2019-06-fifth-meeting",
    "date": "2019-06",
    "kind": "meeting",
    "ordinal": 5,
    "title": "Smart Cities Cluster Meeting in Chengdu, mission to Liuzhou",
    "places": ["Chengdu", "Liuzhou"],
    "city_ids": ["granada", "liuzhou"],
    "outcome": "Granada enters pilot project exchange with the health park",
    "mou_ids": [],
    "pilot_ids": [],
    "status": "held",
    "end_date": None,
}


class UcapActivityLogged(EventData):
    event_type = "ucap.ucap.activity_logged.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"ucap_id": "granada-ucap", "activity": _GRANADA_ACTIVITY}]
        },
    )

    ucap_id: str
    activity: Activity


class UcapActivityUpdated(EventData):
    """The activity's whole new content (same ``activity_id``)."""

    event_type = "ucap.ucap.activity_updated.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"ucap_id": "granada-ucap", "activity": _GRANADA_ACTIVITY}]
        },
    )

    ucap_id: str
    activity: Activity


class UcapActivityRemoved(EventData):
    event_type = "ucap.ucap.activity_removed.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"ucap_id": "granada-ucap", "activity_id": "2019-06-fifth-meeting"}]
        },
    )

    ucap_id: str
    activity_id: str


class UcapDelivered(EventData):
    """The U-CAP delivered (``delivered``) or finalised (``final``), with what was delivered."""

    event_type = "ucap.ucap.delivered.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ucap_id": "granada-ucap",
                    "status": "final",
                    "delivered_on": "2020-05",
                    "deliverable": {
                        "title": "Finalised U-CAP",
                        "date": "2020-05",
                        "kind": "ucap",
                        "url": None,
                    },
                }
            ]
        },
    )

    ucap_id: str
    status: Literal[DeliveryStatus.DELIVERED, DeliveryStatus.FINAL]
    delivered_on: PartialDate
    deliverable: Deliverable | None


UcapEvent = (
    UcapCreated
    | UcapSectionUpdated
    | UcapActivityLogged
    | UcapActivityUpdated
    | UcapActivityRemoved
    | UcapDelivered
)

PUBLISHED_EVENTS: tuple[type[EventData], ...] = (
    UcapCreated,
    UcapSectionUpdated,
    UcapActivityLogged,
    UcapActivityUpdated,
    UcapActivityRemoved,
    UcapDelivered,
)
