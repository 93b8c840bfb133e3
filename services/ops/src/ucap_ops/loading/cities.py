"""Cities: registered with their stakeholders; an existing city gains the stakeholders and
clusters the file adds, its profile is left as it is."""

from typing import Any

from ucap_ops.datafile import City
from ucap_ops.loading.outcome import Outcome
from ucap_ops.loading.run import Run

KIND = "city"


def load_city(run: Run, city: City) -> None:
    run.progress.working_on(f"city {city.id}")
    acting = [city.id]
    current = run.gateway.read(f"/cities/{city.id}", acting)
    if current.status == 404:
        # A plain city's kind goes unsaid, as a cities service that predates kinds expects.
        unsaid = {"registered_on"} | ({"kind"} if city.kind == "city" else set())
        body = city.model_dump(mode="json", exclude=unsaid, exclude_none=True)
        reply = run.gateway.send("POST", "/cities", body, acting=acting, on=city.registered_on)
        if reply.status == 409:
            run.record(KIND, city.id, Outcome.SKIPPED, "already registered")
        else:
            run.written(KIND, city.id, reply, Outcome.CREATED)
        return
    if not current.ok:
        run.refused(KIND, city.id, current)
        return
    _complete(run, city, current.body)


def _complete(run: Run, city: City, held: dict[str, Any]) -> None:
    """Add what the file lists and the city lacks."""
    have = {stakeholder["id"] for stakeholder in held.get("stakeholders", [])}
    clusters = set(held.get("clusters", []))
    added: list[str] = []
    for stakeholder in city.stakeholders:
        if stakeholder.id in have:
            continue
        reply = run.gateway.send(
            "POST",
            f"/cities/{city.id}/stakeholders",
            stakeholder.model_dump(mode="json", exclude_none=True),
            acting=[city.id],
        )
        if not reply.ok:
            run.refused(KIND, city.id, reply)
            return
        added.append(f"stakeholder {stakeholder.id}")
    for cluster in city.clusters:
        if cluster in clusters:
            continue
        reply = run.gateway.send(
            "POST", f"/cities/{city.id}/clusters", {"cluster": cluster}, acting=[city.id]
        )
        if not reply.ok:
            run.refused(KIND, city.id, reply)
            return
        added.append(f"cluster {cluster}")
    if added:
        run.record(KIND, city.id, Outcome.UPDATED, "added " + ", ".join(added))
    else:
        run.record(KIND, city.id, Outcome.SKIPPED, "already registered")
