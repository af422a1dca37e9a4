"""Structured JSON logs, one object per line, in the shape Cloud Logging reads from stdout.

Every line carries `severity`, `message`, `component`, and the `order_id` and `process_instance_key` bound
by the `bind(...)` context manager (null outside of one), so one order can be followed through the
webhook, the engine, the worker and the status function with a single filter.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, TextIO

CONTEXT_FIELDS: Final = ("order_id", "process_instance_key")
_EXCEPTION_CONTEXT: Final = "_fulfillment_log_context"

# Read-only mapping: `bind` replaces it, so a context copied into another task or thread is never mutated.
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "fulfillment_log_context", default=MappingProxyType({})
)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_RECORD_ATTRIBUTES: Final = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Adds fields (typically order_id and process_instance_key) to every log line inside the block."""
    added = {name: value for name, value in fields.items() if value is not None}
    token = _context.set(MappingProxyType({**_context.get(), **added}))
    try:
        yield
    except BaseException as exc:
        # Remember the innermost context on the error, so whoever logs it after the block ends (e.g. the
        # HTTP layer answering it) still logs the order it concerned.
        if not hasattr(exc, _EXCEPTION_CONTEXT):
            with contextlib.suppress(AttributeError, TypeError):  # exceptions without a __dict__
                setattr(exc, _EXCEPTION_CONTEXT, dict(_context.get()))
        raise
    finally:
        _context.reset(token)


def context_of(error: BaseException) -> dict[str, Any]:
    """The fields that were bound where `error` was raised (empty when it was raised outside `bind`)."""
    return dict(getattr(error, _EXCEPTION_CONTEXT, {}))


def bound_fields() -> dict[str, Any]:
    return dict(_context.get())


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _severity(record.levelno),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "component": self.component,
            "logger": record.name,
        }
        context = _context.get()
        for name in CONTEXT_FIELDS:
            entry[name] = context.get(name)
        entry.update({k: v for k, v in context.items() if k not in entry})
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES and k not in entry}
        )
        if record.exc_info:
            # Cloud Error Reporting picks up a stack trace found in `stack_trace`.
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup_logging(component: str, level: int | str = logging.INFO, stream: TextIO | None = None) -> None:
    """Routes all logging through one JSON handler on stdout (idempotent: replaces earlier handlers)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(component))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def _severity(levelno: int) -> str:
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"
