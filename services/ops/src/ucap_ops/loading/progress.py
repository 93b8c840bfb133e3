"""How a load reports as it goes: the item it works on, each item's outcome, notes worth a
line of their own (waiting for a service, a refusal)."""

from typing import Protocol

from ucap_ops.loading.outcome import ItemResult


class Progress(Protocol):
    def working_on(self, text: str) -> None: ...

    def finished(self, result: ItemResult) -> None: ...

    def note(self, text: str) -> None: ...


class Quiet:
    """Reports nothing: for callers that only want the summary."""

    def working_on(self, text: str) -> None:
        pass

    def finished(self, result: ItemResult) -> None:
        pass

    def note(self, text: str) -> None:
        pass
