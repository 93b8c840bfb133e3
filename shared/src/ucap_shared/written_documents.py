"""The view documents this process wrote last, as stored: a writer's next change of one
claims the revision after it without reading it first (see :mod:`ucap_shared.views`)."""

from collections import OrderedDict
from contextvars import ContextVar

WRITTEN_BUDGET_BYTES = 64 * 2**20

WrittenKey = tuple[str, str, str]
"""A database, a view and a document id."""


class WrittenDocuments:
    """The view documents this process wrote last, encoded as stored, within a byte budget.

    Only a hint: a change built on one is written only if it wins the claim of
    the revision after it, which fails once anyone else has written the document.
    """

    def __init__(self, budget_bytes: int = WRITTEN_BUDGET_BYTES) -> None:
        self._budget = budget_bytes
        self._used = 0
        self._documents: OrderedDict[WrittenKey, bytes] = OrderedDict()

    def take(self, key: WrittenKey) -> bytes | None:
        """The document as this process wrote it, forgotten until it is kept again."""
        raw = self._documents.pop(key, None)
        if raw is not None:
            self._used -= len(raw)
        return raw

    def keep(self, key: WrittenKey, raw: bytes) -> None:
        self.take(key)
        if len(raw) > self._budget // 8:
            return
        self._documents[key] = raw
        self._used += len(raw)
        while self._used > self._budget:
            _, dropped = self._documents.popitem(last=False)
            self._used -= len(dropped)

    def forget_database(self, database: str) -> None:
        """After its views were dropped (a rebuild run in this process)."""
        for key in [key for key in self._documents if key[0] == database]:
            self.take(key)

    def __len__(self) -> int:
        return len(self._documents)


_WRITTEN_HERE = WrittenDocuments()
WRITTEN: ContextVar[WrittenDocuments | None] = ContextVar("written_views", default=None)
"""Unset: the process's own. A test sets one per task, to play another replica."""


def written_documents() -> WrittenDocuments:
    own = WRITTEN.get()
    return _WRITTEN_HERE if own is None else own
