from pydantic_settings import SettingsConfigDict

from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """The pilots service's settings; the body-size limit is the shared ``UCAP_MAX_BODY_BYTES``."""

    model_config = SettingsConfigDict(env_prefix="UCAP_PILOTS_", extra="ignore")

    service_name: str = "pilots"
    port: int = 8003
    database: str = "ucap_pilots"
    audience: str | None = "pilots"
