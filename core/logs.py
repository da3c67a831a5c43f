"""Structured logging: one JSON object per line on stderr, with secrets redacted by key name."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

SECRET_KEY = re.compile(r"password|passwd|token|cookie|secret|hash", re.IGNORECASE)
REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_MARK = "_securesphere_json"


def redact(value: Any) -> Any:
    """The value with every mapping entry whose key names a secret replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class RedactFilter(logging.Filter):
    """Replaces secret-named extras (and secret-named %-format mapping arguments) on a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in set(vars(record)) - _STANDARD:
            value = getattr(record, key)
            setattr(record, key, REDACTED if SECRET_KEY.search(key) else redact(value))
        if isinstance(record.args, dict):
            record.args = redact(record.args)
        return True


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, then every extra, as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(
    *, level: int | str = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send the root logger's records to stderr as JSON lines; calling it again replaces our handler."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
