"""Pilots: proposed by their lead city, then brought up to the file step by step (status
changes, milestones, funding, indicators, progress); a step already recorded is skipped.

Status changes are a path: as many of the file's steps as the pilot has status changes
are taken as done. Progress updates carry idempotency keys, so the service itself says
whether one was new."""

from typing import Any

from pydantic import BaseModel

from ucap_ops.datafile import Pilot
from ucap_ops.loading.gateway import Reply
from ucap_ops.loading.outcome import Outcome
from ucap_ops.loading.run import Run

ALREADY = {"funding": "already awarded", "indicator": "already defined"}
PROPOSAL_FIELDS = {
    "id",
    "title",
    "description",
    "lead_city_id",
    "partners",
    "stakeholder_ids",
    "cluster",
    "themes",
    "sdg_goals",
    "sdg_targets",
    "urban_agenda_themes",
    "mou_ids",
    "ucap_id",
    "proposed_on",
}


def load_pilot(run: Run, pilot: Pilot) -> None:
    run.progress.working_on(f"pilot {pilot.id}")
    lead = [pilot.lead_city_id]
    current = run.gateway.read(f"/pilots/{pilot.id}", lead)
    if current.status == 404:
        body = pilot.model_dump(mode="json", include=PROPOSAL_FIELDS, exclude_none=True)
        current = run.gateway.send("POST", "/pilots", body, acting=lead, on=pilot.proposed_on)
        run.written("pilot", pilot.id, current, Outcome.CREATED)
    elif current.ok:
        run.record("pilot", pilot.id, Outcome.SKIPPED, "already proposed")
    else:
        run.refused("pilot", pilot.id, current)
    if not current.ok:
        for kind, item in _parts(pilot):
            run.not_attempted(kind, item, f"pilot {pilot.id} was refused")
        return
    _PilotSteps(run, pilot, current.body).apply()


def _parts(pilot: Pilot) -> list[tuple[str, str]]:
    return [
        *(("status change", f"{pilot.id} {s.action}") for s in pilot.status_changes),
        *(("milestone", f"{pilot.id}/{m.id}") for m in pilot.milestones),
        *(("funding", f"{pilot.id}/{a.id}") for a in pilot.funding),
        *(("indicator", f"{pilot.id}/{i.id}") for i in pilot.indicators),
        *(("progress", f"{pilot.id}/{u.idempotency_key}") for u in pilot.progress),
    ]


class _PilotSteps:
    def __init__(self, run: Run, pilot: Pilot, held: dict[str, Any]) -> None:
        self.loading, self.pilot, self.held = run, pilot, held
        self.path = f"/pilots/{pilot.id}"
        self.lead = [pilot.lead_city_id]

    def _send(self, suffix: str, body: dict[str, Any], on: str | None) -> Reply:
        reply = self.loading.gateway.send(
            "POST", self.path + suffix, body, acting=self.lead, on=on or self.pilot.proposed_on
        )
        if reply.ok and isinstance(reply.body, dict) and "status_changes" in reply.body:
            self.held = reply.body
        return reply

    def apply(self) -> None:
        self.status_changes()
        self.milestones()
        self.funding()
        self.indicators()
        self.progress()

    def status_changes(self) -> None:
        done = len(self.held.get("status_changes", []))
        for index, step in enumerate(self.pilot.status_changes):
            item = f"{self.pilot.id} {step.action}"
            if index < done:
                self.loading.record("status change", item, Outcome.SKIPPED, "already recorded")
                continue
            self.loading.progress.working_on(f"status change {item}")
            body = step.model_dump(mode="json", exclude={"action"}, exclude_none=True)
            reply = self._send(f"/{step.action}", body, step.effective_on)
            self.loading.written("status change", item, reply, Outcome.CREATED)

    def milestones(self) -> None:
        for milestone in self.pilot.milestones:
            item = f"{self.pilot.id}/{milestone.id}"
            held = {m["id"]: m for m in self.held.get("milestones", [])}
            outcome = Outcome.SKIPPED
            if milestone.id not in held:
                self.loading.progress.working_on(f"milestone {item}")
                body = milestone.model_dump(mode="json", exclude={"completed_on"})
                reply = self._send("/milestones", body, None)
                if not reply.ok:
                    self.loading.refused("milestone", item, reply)
                    continue
                outcome = Outcome.CREATED
            completed = held.get(milestone.id, {}).get("completed_on")
            if milestone.completed_on and not completed:
                body = {"completed_on": milestone.completed_on}
                reply = self._send(
                    f"/milestones/{milestone.id}/complete", body, milestone.completed_on
                )
                if not reply.ok:
                    self.loading.refused("milestone", item, reply)
                    continue
                outcome = Outcome.CREATED if outcome is Outcome.CREATED else Outcome.UPDATED
            detail = "already planned" if outcome is Outcome.SKIPPED else ""
            self.loading.record("milestone", item, outcome, detail)

    def funding(self) -> None:
        awarded = self._held_ids("funding", "award_id")
        for award in self.pilot.funding:
            self._add_once("funding", "/funding", award.id, award, awarded, on=award.awarded_on)

    def indicators(self) -> None:
        defined = self._held_ids("indicators", "id")
        for indicator in self.pilot.indicators:
            self._add_once("indicator", "/indicators", indicator.id, indicator, defined, on=None)

    def _held_ids(self, collection: str, key: str) -> set[str]:
        return {str(held[key]) for held in self.held.get(collection, [])}

    def _add_once(
        self,
        kind: str,
        path: str,
        entry_id: str,
        entry: BaseModel,
        held: set[str],
        *,
        on: str | None,
    ) -> None:
        """Post ``entry`` to the pilot's ``path`` unless the pilot holds it already."""
        item = f"{self.pilot.id}/{entry_id}"
        if entry_id in held:
            self.loading.record(kind, item, Outcome.SKIPPED, ALREADY[kind])
            return
        self.loading.progress.working_on(f"{kind} {item}")
        body = entry.model_dump(mode="json", exclude_none=True)
        reply = self._send(path, body, on)
        self.loading.written(kind, item, reply, Outcome.CREATED)

    def progress(self) -> None:
        for update in self.pilot.progress:
            item = f"{self.pilot.id}/{update.idempotency_key}"
            self.loading.progress.working_on(f"progress {item}")
            reply = self.loading.gateway.send(
                "POST",
                f"{self.path}/progress",
                update.model_dump(mode="json", exclude_none=True),
                acting=[update.reporting_city_id],
                on=update.reported_on,
            )
            if reply.ok and reply.replayed:
                self.loading.record("progress", item, Outcome.SKIPPED, "already reported")
            else:
                self.loading.written("progress", item, reply, Outcome.CREATED)
