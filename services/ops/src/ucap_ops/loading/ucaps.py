"""U-CAPs: created by their lead city, their sections patched where they differ from the
file; then the timeline, activities and deliveries together in date order (so the U-CAP's
history runs forward in time): an activity logged when missing and edited when it
differs, a delivery recorded when its deliverable is not there yet."""

from typing import Any

from ucap_ops.datafile import Activity, Delivery, Ucap
from ucap_ops.datafile.models import ACTIVITY_DEFAULTS
from ucap_ops.loading.outcome import Outcome
from ucap_ops.loading.run import Run


def load_ucap(run: Run, ucap: Ucap) -> None:
    run.progress.working_on(f"ucap {ucap.id}")
    lead = [ucap.lead_city_id]
    started = ucap.period.from_ if ucap.period else None
    current = run.gateway.read(f"/ucaps/{ucap.id}", lead)
    if current.status == 404:
        current = run.gateway.send("POST", "/ucaps", ucap.sections(), acting=lead, on=started)
        run.written("ucap", ucap.id, current, Outcome.CREATED)
    elif current.ok:
        changed = _changed_sections(ucap, current.body)
        if changed:
            current = run.gateway.send(
                "PATCH", f"/ucaps/{ucap.id}", changed, acting=lead, on=started
            )
            detail = "changed " + ", ".join(sorted(changed))
            if current.ok:
                run.record("ucap", ucap.id, Outcome.UPDATED, detail)
            else:
                run.refused("ucap", ucap.id, current)
        else:
            run.record("ucap", ucap.id, Outcome.SKIPPED, "up to date")
    else:
        run.refused("ucap", ucap.id, current)
    timeline: list[Activity | Delivery] = [*ucap.activities, *ucap.deliveries]
    timeline.sort(key=lambda entry: entry.date if isinstance(entry, Activity) else entry.on)
    held: dict[str, Any] = current.body if current.ok else {}
    for entry in timeline:
        if not current.ok:
            kind, item = _named(ucap, entry)
            run.not_attempted(kind, item, f"U-CAP {ucap.id} was refused")
        elif isinstance(entry, Activity):
            held = _activity(run, ucap, entry, held)
        else:
            held = _delivery(run, ucap, entry, held)


def _named(ucap: Ucap, entry: Activity | Delivery) -> tuple[str, str]:
    if isinstance(entry, Activity):
        return "activity", f"{ucap.id}/{entry.activity_id}"
    return "delivery", f"{ucap.id}/{entry.deliverable.kind} {entry.on}"


def _changed_sections(ucap: Ucap, held: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for name, value in ucap.sections().items():
        current = held.get(name)
        if name == "id":
            continue
        if name == "period" and isinstance(current, dict):
            current = {key: current.get(key) for key in value}
        if current != value:
            changed[name] = value
    return changed


def _activity(run: Run, ucap: Ucap, activity: Activity, held: dict[str, Any]) -> dict[str, Any]:
    item = f"{ucap.id}/{activity.activity_id}"
    wanted = activity.model_dump(mode="json")
    # A held activity of one day says neither, as a reporting service that predates them
    # expects; one that says neither is such an activity.
    present = {a["activity_id"]: {**ACTIVITY_DEFAULTS, **a} for a in held.get("activities", [])}
    lead = [ucap.lead_city_id]
    run.progress.working_on(f"activity {item}")
    if activity.activity_id not in present:
        said = {k: v for k, v in wanted.items() if ACTIVITY_DEFAULTS.get(k, ...) != v}
        reply = run.gateway.send(
            "POST", f"/ucaps/{ucap.id}/activities", said, acting=lead, on=activity.date
        )
        run.written("activity", item, reply, Outcome.CREATED)
    elif changes := {
        name: value
        for name, value in wanted.items()
        if name != "activity_id" and present[activity.activity_id].get(name) != value
    }:
        reply = run.gateway.send(
            "PATCH",
            f"/ucaps/{ucap.id}/activities/{activity.activity_id}",
            changes,
            acting=lead,
            on=activity.date,
        )
        run.written("activity", item, reply, Outcome.UPDATED)
    else:
        run.record("activity", item, Outcome.SKIPPED, "already logged")
        return held
    return reply.body if reply.ok else held


def _delivery(run: Run, ucap: Ucap, delivery: Delivery, held: dict[str, Any]) -> dict[str, Any]:
    _, item = _named(ucap, delivery)
    if delivery.deliverable.model_dump(mode="json") in held.get("deliverables", []):
        run.record("delivery", item, Outcome.SKIPPED, "already delivered")
        return held
    run.progress.working_on(f"delivery {item}")
    reply = run.gateway.send(
        "POST",
        f"/ucaps/{ucap.id}/deliver",
        delivery.model_dump(mode="json"),
        acting=[ucap.lead_city_id],
        on=delivery.on,
    )
    run.written("delivery", item, reply, Outcome.CREATED)
    return reply.body if reply.ok else held
