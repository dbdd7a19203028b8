"""Structured logs, one JSON object per line, one file per service.

Log calls pass facts as keyword fields (`log.info("task finished", task_id=...)`); nothing in Gaiwan
logs request bodies, keys, tokens, passwords, payloads or file contents. Fields whose names look
secret are dropped by the formatter as a second line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

_SECRET_HINTS = ("password", "token", "secret", "key", "payload", "plaintext", "argument")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "service": getattr(record, "service", record.name),
            "msg": record.getMessage(),
        }
        for k, v in getattr(record, "fields", {}).items():
            if any(h in k.lower() for h in _SECRET_HINTS):
                continue
            entry[k] = v if isinstance(v, (int, float, bool, type(None))) else str(v)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class Logger:
    """A thin facade so call sites read `log.info("msg", field=value)`."""

    def __init__(self, name: str) -> None:
        self._log = logging.getLogger(f"gaiwan.{name}")
        self._service = name

    def _emit(self, level: int, msg: str, exc_info: bool, fields: dict[str, Any]) -> None:
        if self._log.isEnabledFor(level):
            self._log.log(level, msg, exc_info=exc_info,
                          extra={"fields": fields, "service": self._service})

    def debug(self, msg: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, msg, False, fields)

    def info(self, msg: str, **fields: Any) -> None:
        self._emit(logging.INFO, msg, False, fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self._emit(logging.WARNING, msg, False, fields)

    def error(self, msg: str, exc_info: bool = False, **fields: Any) -> None:
        self._emit(logging.ERROR, msg, exc_info, fields)


def get_logger(name: str) -> Logger:
    return Logger(name)


def configure(service: str, log_file: Path | None, level: int = logging.INFO) -> None:
    """Sends every gaiwan.* record to `log_file` (or stderr) as JSON lines."""
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger("gaiwan")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.Formatter.converter = time.gmtime
