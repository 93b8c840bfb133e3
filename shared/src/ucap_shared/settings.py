"""Settings every ucap service reads, from the environment."""

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Connection and runtime settings common to every service.

    Subclasses set their own ``env_prefix`` (``UCAP_PILOTS_`` …) and defaults for
    ``service_name``, ``port`` and ``database``. Kafka and MongoDB endpoints are
    read from the conventional unprefixed variables so one export serves all.
    """

    model_config = SettingsConfigDict(env_prefix="UCAP_", extra="ignore")

    service_name: str = "ucap"
    host: str = "127.0.0.1"
    port: int = 8000
    database: str = "ucap"
    environment: Literal["development", "production"] = Field(
        default="development", validation_alias=AliasChoices("UCAP_ENV")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("UCAP_LOG_LEVEL"))
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "UCAP_KAFKA_BOOTSTRAP_SERVERS"),
    )
    mongodb_uri: str = Field(
        default="mongodb://127.0.0.1:27017/",
        validation_alias=AliasChoices("MONGODB_URI", "UCAP_MONGODB_URI"),
    )
    consumer_group: str | None = Field(
        default=None, description="Kafka consumer group; the service name when unset"
    )
    kafka_topic_partitions: int = Field(
        default=3, ge=1, validation_alias=AliasChoices("UCAP_KAFKA_TOPIC_PARTITIONS")
    )
    kafka_replication_factor: int = Field(
        default=1, ge=1, validation_alias=AliasChoices("UCAP_KAFKA_REPLICATION_FACTOR")
    )
    relay_lease_seconds: float = Field(
        default=15.0, gt=0, validation_alias=AliasChoices("UCAP_RELAY_LEASE_SECONDS")
    )
    readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, validation_alias=AliasChoices("UCAP_READINESS_TIMEOUT_SECONDS")
    )

    @property
    def group(self) -> str:
        return self.consumer_group or self.service_name
