"""Command handlers for organisations: load, decide, append, project at once."""

from ucap_cities.events import OrganisationRegistered
from ucap_cities.organisations import domain
from ucap_cities.organisations.domain import Organisation
from ucap_shared.aggregates import AggregateCommits
from ucap_shared.app import ServiceRuntime
from ucap_shared.envelope import Envelope
from ucap_shared.eventstore import ConcurrencyConflict


def _evolve(organisation: Organisation | None, envelope: Envelope) -> Organisation:
    if envelope.type != OrganisationRegistered.event_type:
        raise domain.not_an_organisation(envelope.subject)
    return domain.evolve(organisation, OrganisationRegistered.model_validate(envelope.data))


ORGANISATIONS = AggregateCommits(Organisation, _evolve, kind="organisation")


async def register_organisation(
    runtime: ServiceRuntime, registered: OrganisationRegistered, actor: str
) -> None:
    organisation_id = registered.organisation_id
    loaded = await ORGANISATIONS.load_current(runtime, organisation_id)
    events = domain.register_organisation(loaded.state, registered)
    try:
        await ORGANISATIONS.commit(runtime, organisation_id, loaded, events, actor=actor)
    except ConcurrencyConflict as error:
        raise domain.OrganisationAlreadyRegisteredError(organisation_id) from error
