from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from ucap_gateway.iati_codes import ORGANISATION_TYPE
from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UCAP_GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 8000
    database: str = "ucap_gateway"
    audience: str | None = "gateway"
    cities_url: str = Field(default="http://127.0.0.1:8001", description="The cities service")
    mous_url: str = Field(default="http://127.0.0.1:8002", description="The MoUs service")
    pilots_url: str = Field(default="http://127.0.0.1:8003", description="The pilots service")
    reporting_url: str = Field(default="http://127.0.0.1:8004", description="The reporting service")
    upstream_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a forwarded request may take"
    )
    status_part_timeout_seconds: float = Field(
        default=3.0, gt=0, description="How long one part of a compiled status may take"
    )

    key_trust_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a key read from the key store is trusted without reading it "
        "again: a revoked key is refused within this time on every replica (0: every request)",
    )
    kept_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A kept status or programme page is compiled again at least this often "
        "while it is read or watched (and after every event that touches it)",
    )
    kept_whole_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A kept status is compiled whole, every part fetched again, at least "
        "this often while it is read or watched; its other compiles fetch only what changed "
        "(reporting's status when its ETag moved, the parts that touching events can change)",
    )
    kept_capacity: int = Field(
        default=512, ge=1, description="Kept statuses (and, apart, programme pages) at most"
    )
    iati_org_ref: str = Field(
        default="XX-UCAP-DEV",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="The reporting organisation's IATI organisation identifier: the prefix "
        "of every pilot's iati-identifier (the default is for development only; a publisher "
        "uses its registered identifier)",
    )
    iati_org_name: str = Field(
        default="ucap (development)", min_length=1, description="The reporting organisation's name"
    )
    iati_org_type: str = Field(
        default="40",
        description="The reporting organisation's IATI OrganisationType code (40: multilateral)",
    )
    iati_language: str = Field(
        default="en",
        pattern=r"^[a-z]{2}$",
        description="ISO 639-1 language of the pilots' titles and descriptions (xml:lang)",
    )
    live_feeds_per_key: int = Field(default=50, ge=1, description="Open live feeds per API key")
    live_feeds_total: int = Field(
        default=2000, ge=1, description="Open live feeds on this gateway replica"
    )
    live_key_check_seconds: float = Field(
        default=2.0, gt=0, description="How often an open feed's API key is checked again"
    )

    rate_limit_per_second: float = Field(
        default=50.0, gt=0, description="Steady requests per second allowed per API key"
    )
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests allowed at once")
    auth_failures_burst: int = Field(
        default=20,
        ge=1,
        description="Failed authentications (a key that reads like one but is unknown, revoked "
        "or wrong, at the gatekeeper or POST /login) one client address may have at once; "
        "past them, 429 for every key not seen valid",
    )
    auth_failures_per_second: float = Field(
        default=0.2, gt=0, description="Failed authentications per second an address regains"
    )

    @field_validator("iati_org_type")
    @classmethod
    def _an_organisation_type(cls, code: str) -> str:
        if code not in ORGANISATION_TYPE:
            raise ValueError(f"{code} is not an IATI OrganisationType code")
        return code

    def upstream_urls(self) -> dict[str, str]:
        return {
            "cities": self.cities_url,
            "mous": self.mous_url,
            "pilots": self.pilots_url,
            "reporting": self.reporting_url,
        }
