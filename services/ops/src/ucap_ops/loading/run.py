"""One load under way: where requests go, where outcomes are reported and kept."""

from dataclasses import dataclass, field

from ucap_ops.loading.gateway import Gateway, Reply
from ucap_ops.loading.outcome import ItemResult, Outcome, Summary
from ucap_ops.loading.progress import Progress


@dataclass
class Run:
    gateway: Gateway
    progress: Progress
    summary: Summary = field(default_factory=Summary)

    def record(
        self, kind: str, item_id: str, outcome: Outcome, detail: str = "", status: int | None = None
    ) -> ItemResult:
        result = ItemResult(kind, item_id, outcome, detail, status)
        self.summary.add(result)
        self.progress.finished(result)
        if outcome is Outcome.REFUSED:
            answer = f"{status} " if status is not None else ""
            self.progress.note(f"refused {kind} {item_id}: {answer}{detail}")
        return result

    def refused(self, kind: str, item_id: str, reply: Reply) -> ItemResult:
        return self.record(kind, item_id, Outcome.REFUSED, reply.detail, reply.status)

    def not_attempted(self, kind: str, item_id: str, because: str) -> ItemResult:
        return self.record(kind, item_id, Outcome.REFUSED, f"not attempted: {because}")

    def written(self, kind: str, item_id: str, reply: Reply, done: Outcome) -> ItemResult:
        """``done`` when the write succeeded, else its refusal."""
        if reply.ok:
            return self.record(kind, item_id, done)
        return self.refused(kind, item_id, reply)
