from pydantic_settings import SettingsConfigDict

from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UCAP_GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 8000
    database: str = "ucap_gateway"
