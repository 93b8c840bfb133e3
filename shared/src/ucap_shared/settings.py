"""Settings every ucap service reads, from the environment."""

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ucap_shared.auth import DEVELOPMENT_KEY


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
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="The port of the metrics listener (`/metrics` without credentials, for "
        "a scraper): none when unset; 0 picks a free port",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="The metrics listener's address: loopback, so only a scraper on the "
        "same host (or network namespace) reaches it",
    )
    metrics_sample_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias=AliasChoices("UCAP_METRICS_SAMPLE_SECONDS"),
        description="How often the outbox, held events, dead letters and health are sampled "
        "into gauges",
    )

    token_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("UCAP_TOKEN_KEY"),
        description="The key the gateway signs caller tokens with and services verify them "
        "with; required in production, a development key otherwise",
    )
    audience: str | None = Field(
        default=None, description="The audience this service's tokens name: its base name"
    )
    token_ttl_seconds: int = Field(
        default=60, ge=5, le=3600, validation_alias=AliasChoices("UCAP_TOKEN_TTL_SECONDS")
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, validation_alias=AliasChoices("UCAP_MAX_BODY_BYTES")
    )
    max_json_depth: int = Field(
        default=32, ge=2, validation_alias=AliasChoices("UCAP_MAX_JSON_DEPTH")
    )
    http_limit_concurrency: int = Field(
        default=4096,
        ge=1,
        validation_alias=AliasChoices("UCAP_HTTP_LIMIT_CONCURRENCY"),
        description="Open connections (or requests in progress) at most; beyond, uvicorn "
        "answers 503. Above UCAP_GATEWAY_LIVE_FEEDS_TOTAL at the gateway: each feed holds one",
    )
    http_keep_alive_seconds: int = Field(
        default=5,
        ge=1,
        validation_alias=AliasChoices("UCAP_HTTP_KEEP_ALIVE_SECONDS"),
        description="How long an idle kept-alive connection stays open (the gateway drops "
        "its own idle upstream connections after 2 s, before this)",
    )
    http_max_head_bytes: int = Field(
        default=32_768,
        ge=4096,
        validation_alias=AliasChoices("UCAP_HTTP_MAX_HEAD_BYTES"),
        description="A request's line and headers at most; beyond, 431 and the connection closed",
    )
    http_head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias=AliasChoices("UCAP_HTTP_HEAD_TIMEOUT_SECONDS"),
        description="How long a connection may take to send a request's line and headers "
        "(from connecting, or from its first byte); then 408 and closed",
    )

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def signing_key(self) -> str:
        """The token key; refuses a missing or development key in production."""
        key = self.token_key.get_secret_value() if self.token_key else None
        if self.production and (not key or key == DEVELOPMENT_KEY or len(key) < 32):
            raise ValueError(
                "UCAP_TOKEN_KEY must be set to a secret of 32+ characters in production"
            )
        return key or DEVELOPMENT_KEY

    @property
    def group(self) -> str:
        return self.consumer_group or self.service_name
