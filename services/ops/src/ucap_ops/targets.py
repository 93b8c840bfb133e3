"""The services an operator's command acts on, with the settings each one reads.

A service's settings come from the same environment it runs with
(``UCAP_<SERVICE>_DATABASE``, ``UCAP_<SERVICE>_CONSUMER_GROUP``, ``MONGODB_URI`` …),
so a command reaches exactly the database and consumer group the service uses.
"""

import importlib
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from ucap_ops.backbone import CommandError
from ucap_shared.app import ServiceDefinition
from ucap_shared.settings import ServiceSettings


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
    definition: ServiceDefinition


def service_target(name: str) -> ServiceTarget:
    """The service's settings (read from the environment now) and its definition."""
    if name not in SERVICES:
        raise CommandError(f"no service {name!r}: one of {', '.join(SERVICES)}")
    config = importlib.import_module(f"ucap_{name}.config")
    definition = importlib.import_module(f"ucap_{name}.main").DEFINITION
    try:
        settings = config.Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CommandError(f"{name} settings: {problems}") from error
    if not isinstance(settings, ServiceSettings) or not isinstance(definition, ServiceDefinition):
        raise CommandError(f"ucap_{name} does not define Settings and DEFINITION as expected")
    return ServiceTarget(name, settings, definition)


def service_targets(only: str | None = None) -> list[ServiceTarget]:
    return [service_target(name) for name in ([only] if only else SERVICES)]
