"""What became of each item of a data file, and the summary of a whole load."""

from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    REFUSED = "refused"


@dataclass(frozen=True)
class ItemResult:
    kind: str
    """city, mou, signature, pilot, status change, milestone, funding, indicator, progress,
    ucap, activity or delivery"""
    id: str
    outcome: Outcome
    detail: str = ""
    """What was done, or why it was skipped or refused"""
    status: int | None = None
    """The HTTP status of a refusal; None when it never reached the API"""


KINDS = (
    "city",
    "mou",
    "signature",
    "pilot",
    "status change",
    "milestone",
    "funding",
    "indicator",
    "progress",
    "ucap",
    "activity",
    "delivery",
)


@dataclass
class Summary:
    items: list[ItemResult] = field(default_factory=list)

    def add(self, result: ItemResult) -> None:
        self.items.append(result)

    def total(self, outcome: Outcome) -> int:
        return sum(1 for item in self.items if item.outcome is outcome)

    @property
    def refused(self) -> list[ItemResult]:
        return [item for item in self.items if item.outcome is Outcome.REFUSED]

    def by_kind(self) -> dict[str, dict[str, int]]:
        """Per kind of item (in the order they load), the count of each outcome."""
        counts = Counter((item.kind, item.outcome) for item in self.items)
        kinds = [kind for kind in KINDS if any(item.kind == kind for item in self.items)]
        return {kind: {o.value: counts[(kind, o)] for o in Outcome} for kind in kinds}

    def as_json(self) -> dict[str, Any]:
        return {
            "totals": {outcome.value: self.total(outcome) for outcome in Outcome},
            "by_kind": self.by_kind(),
            "refused": [asdict(item) for item in self.refused],
            "items": [asdict(item) for item in self.items],
        }
