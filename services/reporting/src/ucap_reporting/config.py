from pydantic_settings import SettingsConfigDict

from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UCAP_REPORTING_", extra="ignore")

    service_name: str = "reporting"
    port: int = 8004
    database: str = "ucap_reporting"
    audience: str | None = "reporting"
