"""Logging set-up: plain lines or JSON lines, and a filter that masks every token we have read.

Tokens are registered the moment they are read from the environment (`register_secret`), so even a
vendor library that logs a header or a URL with a secret cannot leak it through our handlers.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_SECRETS: set[str] = set()
MASK = "***"


def register_secret(value: str) -> None:
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            record.msg, record.args = redact(message), None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("tracker", "run_id", "event"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if getattr(record, "summary", None):
            payload["summary"] = record.summary
        if record.exc_text:
            payload["exception"] = record.exc_text
        elif record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


def setup_logging(fmt: str = "text", level: str = "info") -> None:
    """Configure the root logger once per process: stderr, plain or JSON, secrets masked."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_plansync", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._plansync = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # library warnings (matplotlib's among them) go through this handler too, so JSON logs stay JSON
    logging.captureWarnings(True)
    # vendor libraries are chatty at debug; keep them at warning unless asked for debug explicitly
    from connector.trackers import registry

    vendors = tuple(name for kind in registry.kinds().values() for name in kind.loggers)
    for noisy in ("urllib3", "matplotlib", "PIL", "alembic", *vendors):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
