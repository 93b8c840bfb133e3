"""Organisations with no city (an international fund, a national agency): registered on the
cities service before the MoUs that name them; one that exists already is left as it is."""

from ucap_ops.datafile import Organisation
from ucap_ops.loading.outcome import Outcome
from ucap_ops.loading.run import Run

KIND = "organisation"


def load_organisation(run: Run, organisation: Organisation) -> None:
    item = organisation.organisation_id
    run.progress.working_on(f"organisation {item}")
    # No city acts for it: the admin key of the load does (or the one key given).
    current = run.gateway.read(f"/organisations/{item}", [])
    if current.ok:
        run.record(KIND, item, Outcome.SKIPPED, "already registered")
        return
    if current.status != 404:
        run.refused(KIND, item, current)
        return
    reply = run.gateway.send(
        "POST", "/organisations", organisation.model_dump(mode="json"), acting=[]
    )
    if reply.status == 409:
        run.record(KIND, item, Outcome.SKIPPED, "already registered")
    else:
        run.written(KIND, item, reply, Outcome.CREATED)
