"""The services an operator's command acts on, with the settings each one reads.

A service's settings come from the same environment it runs with
(``UCAP_<SERVICE>_DATABASE``, ``UCAP_<SERVICE>_CONSUMER_GROUP``, ``MONGODB_URI`` …),
so a command reaches exactly the database and consumer group the service uses.
"""

import importlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ucap_ops.backbone import CommandError
from ucap_shared.settings import ServiceSettings

if TYPE_CHECKING:
    from ucap_shared.app import ServiceDefinition


class ServiceName(StrEnum):
    """A service with views fed by events (the gateway keeps none)."""

    cities = "cities"
    mous = "mous"
    pilots = "pilots"
    reporting = "reporting"


SERVICES = tuple(name.value for name in ServiceName)


@dataclass(frozen=True)
class ServiceTarget:
    name: str
    settings: ServiceSettings

    def definition(self) -> "ServiceDefinition":
        """The service's views and handlers (imports its whole app, so only when needed)."""
        from ucap_shared.app import ServiceDefinition

        definition = importlib.import_module(f"ucap_{self.name}.main").DEFINITION
        if not isinstance(definition, ServiceDefinition):
            raise CommandError(f"ucap_{self.name}.main.DEFINITION is not a ServiceDefinition")
        return definition


def service_target(name: str) -> ServiceTarget:
    """The service's settings, read from the environment now."""
    if name not in SERVICES:
        raise CommandError(f"no service {name!r}: one of {', '.join(SERVICES)}")
    config = importlib.import_module(f"ucap_{name}.config")
    try:
        settings = config.Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CommandError(f"{name} settings: {problems}") from error
    if not isinstance(settings, ServiceSettings):
        raise CommandError(f"ucap_{name}.config.Settings is not a service's settings")
    return ServiceTarget(name, settings)


def service_targets(only: str | None = None) -> list[ServiceTarget]:
    return [service_target(name) for name in ([only] if only else SERVICES)]
