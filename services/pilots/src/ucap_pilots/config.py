from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UCAP_PILOTS_", extra="ignore")

    service_name: str = "pilots"
    port: int = 8003
    database: str = "ucap_pilots"
    audience: str | None = "pilots"
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Larger request bodies are refused with 413"
    )
