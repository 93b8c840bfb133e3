"""Structured JSON logging with the request's correlation id and trace attached."""

import atexit
import json
import logging
import queue
import sys
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler
from typing import TextIO

from opentelemetry import trace

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
occurred_at: ContextVar[datetime | None] = ContextVar("occurred_at", default=None)
"""When what a request records happened, where the caller says (importing history)."""

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, the
    current span's trace and span ids (when traced), extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (cid := correlation_id.get()) is not None:
            entry["correlation_id"] = cid
        if (span := trace.get_current_span().get_span_context()).is_valid:
            entry["trace_id"] = trace.format_trace_id(span.trace_id)
            entry["span_id"] = trace.format_span_id(span.span_id)
        entry.update((key, value) for key, value in record.__dict__.items() if key not in _RESERVED)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


LINES_PER_WRITE = 512
"""At most this many lines go to the stream in one write."""


class LineWriter:
    """Writes the lines queued by the process's ``QueueHandler`` on a thread of its own.

    It takes every line already waiting and writes them in one write and one flush,
    so a busy service makes a few writes a second, not one per line (stderr writes
    each line as it comes).
    """

    _STOP = object()

    def __init__(self, lines: "queue.SimpleQueue[object]", stream: TextIO) -> None:
        self._lines = lines
        self._stream = stream
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Writes what is queued, then ends the thread."""
        self._lines.put(self._STOP)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._lines.get()]
            while len(batch) < LINES_PER_WRITE:
                try:
                    batch.append(self._lines.get_nowait())
                except queue.Empty:
                    break
            stopping = any(item is self._STOP for item in batch)
            text = "".join(
                f"{item.getMessage()}\n" for item in batch if isinstance(item, logging.LogRecord)
            )
            if text:
                self._write(text)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: the lines are lost
            pass


_writers: list[LineWriter] = []
"""The thread that writes this process's lines: one, replaced when configured again."""


def stop_log_writer() -> None:
    while _writers:
        _writers.pop().stop()  # writes what is still queued


atexit.register(stop_log_writer)


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route the root logger (and uvicorn's) to JSON lines on ``stream`` (stderr).

    A line is made where it is logged (with that task's correlation id and span) and
    written to stderr by a thread of its own: a write that blocks (a slow disk, a
    pipe nobody reads fast enough) never stalls the event loop. httpx's line per
    request (the gateway's calls to the services) is left out below WARNING.
    """
    stop_log_writer()
    lines: queue.SimpleQueue[object] = queue.SimpleQueue()
    made_here = QueueHandler(lines)
    made_here.setFormatter(JsonFormatter(service))
    writer = LineWriter(lines, sys.stderr if stream is None else stream)
    writer.start()
    _writers.append(writer)
    root = logging.getLogger()
    root.handlers[:] = [made_here]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("pymongo").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
