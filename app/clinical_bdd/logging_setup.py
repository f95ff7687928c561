"""JSON-lines logging on stdout (stdlib only; also used by gunicorn.conf.py).

Log records carry structured fields passed through ``extra=``. Guideline
content must never be passed to a logger.
"""
from __future__ import annotations

import json
import logging
import sys
import time

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # Type and stack only: exception messages could quote request data.
            import traceback

            payload["exc_type"] = record.exc_info[0].__name__
            payload["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(payload, default=str, ensure_ascii=False)


class StdoutHandler(logging.StreamHandler):
    """A StreamHandler that always writes to the current sys.stdout."""

    def __init__(self):
        super().__init__(sys.stdout)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stdout

    @stream.setter
    def stream(self, _value):
        pass


def level_from_name(name: str) -> int:
    return getattr(logging, (name or "info").upper(), logging.INFO)


def configure_logging(level: str = "info") -> None:
    """Route the root logger to stdout as JSON lines (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_clinical_bdd", False) or isinstance(
            handler.formatter, JsonFormatter
        ):
            root.setLevel(level_from_name(level))
            return
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    handler._clinical_bdd = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level_from_name(level))


def gunicorn_logconfig(level: str = "info") -> dict:
    """A logging.config dict for gunicorn: JSON lines on stdout."""
    lvl = (level or "info").upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stdout": {
                "()": StdoutHandler,
                "formatter": "json",
            }
        },
        "root": {"level": lvl, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": lvl, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
