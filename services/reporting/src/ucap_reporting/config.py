from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ucap_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UCAP_REPORTING_", extra="ignore")

    service_name: str = "reporting"
    port: int = 8004
    database: str = "ucap_reporting"
    audience: str | None = "reporting"

    webhook_max_attempts: int = Field(
        default=6,
        ge=1,
        le=50,
        description="Tries of a webhook delivery before it is dead-lettered",
    )
    webhook_first_retry_seconds: float = Field(
        default=10.0, gt=0, description="The longest wait after a delivery's first failure"
    )
    webhook_max_retry_seconds: float = Field(
        default=3600.0, gt=0, description="The longest wait between two tries of a delivery"
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a receiver has to answer one try"
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the delivery worker looks for due deliveries"
    )
    webhook_overdue_check_seconds: float = Field(
        default=3600.0, gt=0, description="How often newly overdue milestones are looked for"
    )
    webhook_concurrency: int = Field(
        default=16, ge=1, description="Deliveries in flight at once, at most"
    )
    webhook_lease_seconds: float = Field(
        default=15.0, gt=0, description="The delivery worker's lease (one holder among replicas)"
    )
