"""The organisation aggregate: registered once, with no city of its own.

Pure: no I/O. Organisations and cities share one id space (one event store, one
topic keyed by id), so an id a city holds cannot name an organisation.
"""

from dataclasses import dataclass

from ucap_cities.domain import IdTakenError
from ucap_cities.events import OrganisationRegistered, OrganisationScope, StakeholderKind
from ucap_shared.problems import ConflictError, NotFoundError


class OrganisationNotFoundError(NotFoundError):
    def __init__(self, organisation_id: str) -> None:
        super().__init__(f"no organisation {organisation_id!r}", organisation_id=organisation_id)


class OrganisationAlreadyRegisteredError(ConflictError):
    def __init__(self, organisation_id: str) -> None:
        super().__init__(
            f"organisation {organisation_id!r} is already registered",
            organisation_id=organisation_id,
        )


@dataclass(frozen=True)
class Organisation:
    """A registered organisation as its events leave it."""

    organisation_id: str
    name: str
    native_name: str | None
    kind: StakeholderKind
    scope: OrganisationScope
    country: str | None
    website: str | None
    version: int = 0


def evolve(organisation: Organisation | None, event: OrganisationRegistered) -> Organisation:
    if organisation is not None:
        raise ValueError(f"{event.event_type} of {event.organisation_id} twice")
    return Organisation(**event.model_dump(), version=1)


def register_organisation(
    existing: Organisation | None, registered: OrganisationRegistered
) -> list[OrganisationRegistered]:
    if existing is not None:
        raise OrganisationAlreadyRegisteredError(registered.organisation_id)
    return [registered]


def not_an_organisation(aggregate_id: str) -> IdTakenError:
    return IdTakenError(aggregate_id, "a city, not an organisation")
