"""A pilot proposed, and later changes to its details (everything but its status and progress)."""

from typing import Any

from pydantic import ConfigDict, Field

from ucap_pilots.events.values import PartnerCity
from ucap_shared.dates import PartialDate
from ucap_shared.events import EventData

_PROPOSED_EXAMPLE: dict[str, Any] = {
    "pilot_id": "granada-blocklab",
    "title": "BlockLab online cooperative platform",
    "description": "An online cooperative work platform on blockchain for circular economy.",
    "lead_city_id": "granada",
    "partners": [
        {"city_id": "granada", "role": "lead"},
        {"city_id": "kunming", "role": "partner"},
    ],
    "stakeholder_ids": ["medialab-ugr", "ontech-granada"],
    "cluster": "Circular Economy",
    "themes": ["Smart City and Digital Transition"],
    "sdg_goals": [9, 11],
    "sdg_targets": ["11.3"],
    "urban_agenda_themes": ["Digital Transition"],
    "mou_ids": [],
    "ucap_id": "granada-ucap",
}


class PilotProposed(EventData):
    """A pilot was proposed; it starts in status ``proposed``."""

    event_type = "ucap.pilot.proposed.v1"
    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [_PROPOSED_EXAMPLE]}
    )

    pilot_id: str = Field(description="Starts with the lead city's id and a dash")
    title: str = Field(description="The pilot's title")
    description: str = Field(description="What the pilot is about")
    lead_city_id: str = Field(description="The lead city")
    partners: tuple[PartnerCity, ...] = Field(
        description="Every city of the pilot with its role; the lead city with role lead"
    )
    stakeholder_ids: tuple[str, ...] = Field(description="Stakeholder organisations involved")
    cluster: str | None = Field(description="Thematic cluster", examples=["Smart City"])
    themes: tuple[str, ...] = Field(description="Cooperation themes")
    sdg_goals: tuple[int, ...] = Field(description="SDG goals, 1 to 17")
    sdg_targets: tuple[str, ...] = Field(description="SDG targets, e.g. 11.3")
    urban_agenda_themes: tuple[str, ...] = Field(description="EU Urban Agenda themes")
    mou_ids: tuple[str, ...] = Field(description="MoUs the pilot is based on")
    ucap_id: str | None = Field(description="The U-CAP the pilot belongs to")
    proposed_on: PartialDate | None = Field(
        default=None,
        description="When it was proposed, as the partners date it; null: when it was "
        "recorded (events from before this field read as null)",
    )


class PilotDetailsUpdated(EventData):
    """Some details changed; only the changed fields are present besides ``pilot_id``."""

    event_type = "ucap.pilot.details_updated.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"pilot_id": "granada-blocklab", "cluster": "Smart City", "sdg_goals": [9, 11, 17]}
            ]
        },
    )

    pilot_id: str = Field(description="The pilot")
    title: str | None = Field(default=None, description="New value")
    description: str | None = Field(default=None, description="New value")
    partners: tuple[PartnerCity, ...] | None = Field(default=None, description="New value")
    stakeholder_ids: tuple[str, ...] | None = Field(default=None, description="New value")
    cluster: str | None = Field(default=None, description="New value; null: no cluster")
    themes: tuple[str, ...] | None = Field(default=None, description="New value")
    sdg_goals: tuple[int, ...] | None = Field(default=None, description="New value")
    sdg_targets: tuple[str, ...] | None = Field(default=None, description="New value")
    urban_agenda_themes: tuple[str, ...] | None = Field(default=None, description="New value")
    mou_ids: tuple[str, ...] | None = Field(default=None, description="New value")
    ucap_id: str | None = Field(default=None, description="New value; null: no U-CAP")

    def model_dump(self, **options: Any) -> dict[str, Any]:  # noqa: ANN401 - BaseModel's options
        """Only the fields set: an absent field is unchanged, a null one is cleared."""
        options.setdefault("exclude_unset", True)
        return {"pilot_id": self.pilot_id, **super().model_dump(**options)}

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set - {"pilot_id"}}
