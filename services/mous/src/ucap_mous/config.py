from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UCAP_MOUS_", extra="ignore")

    service_name: str = "mous"
    port: int = 8002
    database: str = "ucap_mous"
    audience: str | None = "mous"
    expiry_check_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the scheduled check looks for MoUs whose validity has ended",
    )
