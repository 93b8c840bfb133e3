"""The events the cities service publishes on ``ucap.cities.events``.

These payloads are a contract other services code against: field names and
meanings never change within a version; a breaking change is a new ``.vN`` type.
"""

from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from ucap_shared.events import EventData

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"


class WorldRegion(StrEnum):
    """The world regions cities are grouped in."""

    AFRICA = "Africa"
    ASIA = "Asia"
    EUROPE = "Europe"
    LATIN_AMERICA_AND_THE_CARIBBEAN = "Latin America and the Caribbean"
    NORTH_AMERICA = "North America"
    OCEANIA = "Oceania"


class CityKind(StrEnum):
    """What kind of local or regional authority a city is."""

    CITY = "city"
    REGION = "region"
    METROPOLITAN_AUTHORITY = "metropolitan_authority"
    COMBINED_AUTHORITY = "combined_authority"
    DISTRICT = "district"
    NEW_AREA = "new_area"


class OrganisationScope(StrEnum):
    """How far an organisation with no city reaches."""

    NATIONAL = "national"
    INTERNATIONAL = "international"


class StakeholderKind(StrEnum):
    """What kind of organisation a stakeholder is."""

    UNIVERSITY = "university"
    SCIENCE_OR_HEALTH_PARK = "science_or_health_park"
    COMPANY = "company"
    CHAMBER_OF_COMMERCE = "chamber_of_commerce"
    CITY_GOVERNMENT = "city_government"
    DISTRICT_OR_NEW_AREA = "district_or_new_area"
    INNOVATION_HUB = "innovation_hub"
    CLUSTER = "cluster"
    OTHER = "other"


class Population(BaseModel):
    """A city's population and the year it refers to, or explicitly unknown ("N/A")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    known: bool = Field(description="False when the population is not known (N/A)")
    value: int | None = Field(
        default=None, ge=0, description="Number of inhabitants; null when not known"
    )
    year: int | None = Field(
        default=None, ge=1000, le=2200, description="The year the figure refers to"
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Population":
        if self.known and (self.value is None or self.year is None):
            raise ValueError("a known population needs both a value and the year it refers to")
        if not self.known and (self.value is not None or self.year is not None):
            raise ValueError("an unknown population has neither value nor year")
        return self

    @classmethod
    def unknown(cls) -> "Population":
        return cls(known=False)


class StakeholderData(BaseModel):
    """A stakeholder organisation as carried in events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stakeholder_id: str = Field(pattern=SLUG_PATTERN, description="Slug, unique within the city")
    name: str = Field(min_length=1, description="The organisation's name")
    kind: StakeholderKind = Field(description="What kind of organisation it is")
    website: str | None = Field(default=None, description="Its website, if any")


class CityRegistered(EventData):
    """A city was registered with its profile and clusters."""

    event_type = "ucap.city.registered.v1"

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "city_id": "granada",
                    "name": "Granada",
                    "native_name": "Granada",
                    "region": "Andalusia",
                    "country": "ES",
                    "world_region": "Europe",
                    "population": {"known": True, "value": 236000, "year": 2018},
                    "area_km2": 88.0,
                    "clusters": ["Smart City", "Circular Economy"],
                    "kind": "city",
                },
                {
                    "city_id": "tianfu-new-district",
                    "name": "Tianfu New District",
                    "native_name": "天府新区",
                    "region": "Sichuan",
                    "country": "CN",
                    "world_region": "Asia",
                    "population": {"known": False, "value": None, "year": None},
                    "area_km2": None,
                    "clusters": [],
                    "kind": "new_area",
                },
            ]
        }
    )

    city_id: str = Field(pattern=SLUG_PATTERN, description="The city's slug, e.g. `granada`")
    kind: CityKind = Field(
        default=CityKind.CITY,
        description="What kind of authority it is; `city` in events written before it existed",
    )
    name: str = Field(description="The city's name in English")
    native_name: str | None = Field(
        description="The name in its own script, e.g. `海口`; null if none"
    )
    region: str | None = Field(description="Province, state or region; null if none")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code")
    world_region: WorldRegion = Field(description="The world region")
    population: Population = Field(description="Population with its year, or explicitly unknown")
    area_km2: float | None = Field(description="Area in km²; null when not known")
    clusters: list[str] = Field(description="Thematic clusters the city is in")


class CityProfileUpdated(EventData):
    """A city's profile changed; only the changed fields are present besides ``city_id``."""

    event_type = "ucap.city.profile_updated.v1"

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "city_id": "granada",
                    "population": {"known": True, "value": 232208, "year": 2020},
                    "native_name": None,
                },
                {"city_id": "west-midlands", "kind": "combined_authority"},
            ]
        }
    )

    city_id: str = Field(pattern=SLUG_PATTERN, description="The city's slug, e.g. `granada`")
    kind: CityKind | None = Field(default=None, description="New value: the kind of authority")
    name: str | None = Field(default=None, description="New value: the city's name in English")
    native_name: str | None = Field(
        default=None, description="New value: the name in its own script, e.g. `海口`; null if none"
    )
    region: str | None = Field(
        default=None, description="New value: province, state or region; null if none"
    )
    country: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="New value: ISO 3166-1 alpha-2 country code",
    )
    world_region: WorldRegion | None = Field(
        default=None, description="New value: the world region"
    )
    population: Population | None = Field(
        default=None, description="New value: population with its year, or explicitly unknown"
    )
    area_km2: float | None = Field(
        default=None, description="New value: area in km²; null when not known"
    )

    def model_dump(self, **options: Any) -> dict[str, Any]:  # noqa: ANN401 - BaseModel's options
        """Dump only the fields that were set: an absent field did not change."""
        options.setdefault("exclude_unset", True)
        return super().model_dump(**options)

    def model_dump_json(self, **options: Any) -> str:  # noqa: ANN401 - BaseModel's options
        """As :meth:`model_dump`: only the fields that were set."""
        options.setdefault("exclude_unset", True)
        return super().model_dump_json(**options)

    def changes(self) -> dict[str, Any]:
        """The changed fields and their new values, as models."""
        return {name: getattr(self, name) for name in self.model_fields_set - {"city_id"}}


class StakeholderAdded(EventData):
    """A stakeholder organisation was added to a city."""

    event_type = "ucap.city.stakeholder_added.v1"

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "city_id": "granada",
                    "stakeholder": {
                        "stakeholder_id": "university-of-granada",
                        "name": "University of Granada",
                        "kind": "university",
                        "website": "https://www.ugr.es/",
                    },
                }
            ]
        }
    )

    city_id: str = Field(pattern=SLUG_PATTERN, description="The city's slug, e.g. `granada`")
    stakeholder: StakeholderData = Field(description="The organisation added")


class StakeholderRemoved(EventData):
    """A stakeholder organisation was removed from a city."""

    event_type = "ucap.city.stakeholder_removed.v1"

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"city_id": "granada", "stakeholder_id": "university-of-granada"}]
        }
    )

    city_id: str = Field(pattern=SLUG_PATTERN, description="The city's slug, e.g. `granada`")
    stakeholder_id: str = Field(description="The slug of the organisation")


class ClusterJoined(EventData):
    """A city joined a thematic cluster."""

    event_type = "ucap.city.cluster_joined.v1"

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"city_id": "kunming", "cluster": "Circular Economy"}]}
    )

    city_id: str = Field(pattern=SLUG_PATTERN, description="The city's slug, e.g. `granada`")
    cluster: str = Field(description="The cluster's name, e.g. `Smart City`")


class ClusterLeft(EventData):
    """A city left a thematic cluster."""

    event_type = "ucap.city.cluster_left.v1"

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"city_id": "kunming", "cluster": "Circular Economy"}]}
    )

    city_id: str = Field(pattern=SLUG_PATTERN, description="The city's slug, e.g. `granada`")
    cluster: str = Field(description="The cluster's name, e.g. `Smart City`")


class OrganisationRegistered(EventData):
    """An organisation that belongs to no one city (national or international) was registered.

    A city's own organisations are its stakeholders (``ucap.city.stakeholder_added.v1``).
    """

    event_type = "ucap.organisation.registered.v1"

    model_config = ConfigDict(
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
                }
            ]
        }
    )

    organisation_id: str = Field(
        pattern=SLUG_PATTERN, description="The organisation's slug, e.g. `uk-china-biotech-fund`"
    )
    name: str = Field(min_length=1, description="The organisation's name")
    native_name: str | None = Field(description="The name in its own script; null if none")
    kind: StakeholderKind = Field(description="What kind of organisation it is")
    scope: OrganisationScope = Field(description="National or international")
    country: str | None = Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 country code; set for a national one, else may be null",
    )
    website: str | None = Field(description="Its website, if any")


CityEvent = (
    CityRegistered
    | CityProfileUpdated
    | StakeholderAdded
    | StakeholderRemoved
    | ClusterJoined
    | ClusterLeft
)

PUBLISHED_EVENTS: tuple[type[EventData], ...] = (
    CityRegistered,
    CityProfileUpdated,
    StakeholderAdded,
    StakeholderRemoved,
    ClusterJoined,
    ClusterLeft,
    OrganisationRegistered,
)
