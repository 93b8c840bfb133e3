"""The bodies the cities API takes, and the value types they share."""

from collections import Counter
from typing import Annotated, Any

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
)

from ucap_cities.domain import RegisterCity
from ucap_cities.events import (
    SLUG_PATTERN,
    CityKind,
    Population,
    StakeholderData,
    StakeholderKind,
    WorldRegion,
)
from ucap_shared import bounds


def _iso_country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 country code, e.g. `ES`, `CN`",
    ),
    AfterValidator(_iso_country),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=bounds.NAME_CHARS)
]
ClusterName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=bounds.NAME_CHARS, pattern=r"^[^/]+$"
    ),
]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


def _unique(values: list[str], what: str) -> list[str]:
    repeated = sorted(value for value, count in Counter(values).items() if count > 1)
    if repeated:
        raise ValueError(f"{what} listed more than once: {', '.join(repeated)}")
    return values


class StakeholderIn(BaseModel):
    """A stakeholder organisation of a city."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "university-of-granada",
                    "name": "University of Granada",
                    "kind": "university",
                    "website": "https://www.ugr.es/",
                }
            ]
        },
    )

    id: Slug = Field(description="Slug, unique within the city, e.g. `university-of-granada`")
    name: Text = Field(description="The organisation's name")
    kind: StakeholderKind = Field(description="What kind of organisation it is")
    website: HttpUrl | None = Field(default=None, description="Its website, if any")

    def data(self) -> StakeholderData:
        return StakeholderData(
            stakeholder_id=self.id,
            name=self.name,
            kind=self.kind,
            website=str(self.website) if self.website else None,
        )


class RegisterCityRequest(BaseModel):
    """A city to register."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "granada",
                    "name": "Granada",
                    "native_name": "Granada",
                    "region": "Andalusia",
                    "country": "ES",
                    "world_region": "Europe",
                    "population": {"known": True, "value": 236000, "year": 2018},
                    "area_km2": 88,
                    "clusters": ["Smart City", "Circular Economy"],
                    "stakeholders": [
                        {
                            "id": "university-of-granada",
                            "name": "University of Granada",
                            "kind": "university",
                        }
                    ],
                },
                {
                    "id": "haikou",
                    "name": "Haikou",
                    "native_name": "海口",
                    "region": "Hainan",
                    "country": "CN",
                    "world_region": "Asia",
                    "population": {"known": False},
                    "clusters": ["Smart City"],
                },
                {
                    "id": "tianfu-new-district",
                    "kind": "new_area",
                    "name": "Tianfu New District",
                    "native_name": "天府新区",
                    "region": "Sichuan",
                    "country": "CN",
                    "world_region": "Asia",
                    "population": {"known": False},
                },
            ]
        },
    )

    id: Slug = Field(description="Stable slug of the city, e.g. `granada`")
    kind: CityKind = Field(
        default=CityKind.CITY,
        description="What kind of authority: a city, a region, a metropolitan or combined"
        " authority, a district or a new area",
    )
    name: Text = Field(description="The city's name in English")
    native_name: Text | None = Field(
        default=None, description="The city's name in its own script, e.g. `海口`"
    )
    region: Text | None = Field(default=None, description="Province, state or region")
    country: CountryCode
    world_region: WorldRegion = Field(description="The world region, e.g. `Europe`, `Asia`")
    population: Population = Field(
        description="Population with the year it refers to, or explicitly unknown"
    )
    area_km2: float | None = Field(default=None, gt=0, description="Area in km², if known")
    clusters: list[ClusterName] = Field(
        default_factory=list,
        max_length=bounds.THEMES_PER_LIST,
        description="Thematic clusters, e.g. `Smart City`",
    )
    stakeholders: list[StakeholderIn] = Field(
        default_factory=list,
        max_length=bounds.IDS_PER_LIST,
        description="Stakeholder organisations to register with the city",
    )

    @field_validator("clusters")
    @classmethod
    def _distinct_clusters(cls, clusters: list[str]) -> list[str]:
        return _unique(clusters, "cluster")

    @field_validator("stakeholders")
    @classmethod
    def _distinct_stakeholders(cls, stakeholders: list[StakeholderIn]) -> list[StakeholderIn]:
        _unique([s.id for s in stakeholders], "stakeholder id")
        return stakeholders

    def command(self) -> RegisterCity:
        return RegisterCity(
            city_id=self.id,
            name=self.name,
            native_name=self.native_name,
            region=self.region,
            country=self.country,
            world_region=self.world_region,
            population=self.population,
            area_km2=self.area_km2,
            clusters=tuple(self.clusters),
            stakeholders=tuple(s.data() for s in self.stakeholders),
            kind=self.kind,
        )


class UpdateCityRequest(BaseModel):
    """Profile fields to change; a field left out stays as it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"population": {"known": True, "value": 232208, "year": 2020}},
                {"native_name": None, "area_km2": 88.02},
                {"kind": "combined_authority"},
            ]
        },
    )

    kind: CityKind | None = Field(default=None, description="What kind of authority it is")
    name: Text | None = Field(default=None, description="The city's name in English")
    native_name: Text | None = Field(
        default=None, description="The name in its own script; null clears it"
    )
    region: Text | None = Field(
        default=None, description="Province, state or region; null clears it"
    )
    country: CountryCode | None = Field(default=None, description="ISO 3166-1 alpha-2 country code")
    world_region: WorldRegion | None = Field(default=None, description="The world region")
    population: Population | None = Field(
        default=None, description="Population with its year, or explicitly unknown"
    )
    area_km2: float | None = Field(default=None, gt=0, description="Area in km²; null clears it")

    @field_validator("kind", "name", "country", "world_region", "population")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields given in the request: these can change, never be cleared.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class JoinClusterRequest(BaseModel):
    """A thematic cluster for the city to join."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"cluster": "Smart City"}]}
    )

    cluster: ClusterName = Field(description="The cluster's name, e.g. `Circular Economy`")
