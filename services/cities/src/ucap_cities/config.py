from pydantic_settings import SettingsConfigDict

from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UCAP_CITIES_", extra="ignore")

    service_name: str = "cities"
    port: int = 8001
    database: str = "ucap_cities"
    audience: str | None = "cities"
