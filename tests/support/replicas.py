"""Playing another replica of a service in one test process."""

import contextlib
from collections.abc import Iterator

from ucap_shared import written_documents


@contextlib.contextmanager
def replica(memory: written_documents.WrittenDocuments) -> Iterator[None]:
    """Write views as a process with ``memory`` for what it wrote last."""
    token = written_documents.WRITTEN.set(memory)
    try:
        yield
    finally:
        written_documents.WRITTEN.reset(token)
