"""The service's log: one JSON object per line on stderr, one `delivery` line per delivery.

JSON, so that a pipeline filters on delivery or ticket and no header can forge a line; every
handler blanks every secret the process knows, whichever library logged it.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any

from gonogo.redaction import STANDARD_RECORD_ATTRIBUTES, RedactRecords, route_other_loggers

DELIVERY_LOGGER = "gonogo.webhook.delivery"
ACCEPT_ERROR_INTERVAL_SECONDS = 60.0


class JsonLines(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...extra fields}`, one per line."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        level, message, extra = record.levelname.lower(), record.getMessage(), record.__dict__.items()
        document = {"ts": stamp, "level": level, "logger": record.name, "message": message}
        document |= {k: v for k, v in extra if k not in STANDARD_RECORD_ATTRIBUTES and not k.startswith("_")}
        if record.exc_info and record.exc_info[0] is not None:
            document["error"] = record.exc_info[0].__name__  # the class only: a traceback may quote data
        return json.dumps(document, ensure_ascii=False, default=str)


class AcceptErrorsOncePerInterval(logging.Filter):
    """asyncio reports each failed accept() (out of file descriptors) with a traceback, every second
    while it lasts; one line per interval and message says the same, with how many were held back."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "asyncio":
            return True
        key, now = str(record.msg).split("\n", 1)[0], time.monotonic()
        with self._lock:
            last, held = self._last.get(key, (float("-inf"), 0))
            if now - last < ACCEPT_ERROR_INTERVAL_SECONDS:
                self._last[key] = (last, held + 1)
                return False
            self._last[key] = (now, 0)
        if held:
            record.suppressed = held  # shown as a field of the JSON line
        return True


def setup_service_logging(*, verbose: int) -> None:
    """Every logger's records to stderr as JSON lines, secrets blanked (see `gonogo.redaction`).
    gonogo's and uvicorn's loggers have the handler themselves; every other library (asyncio,
    urllib3, ...) reaches it through the root logger from WARNING on, one line each."""
    level = logging.DEBUG if verbose > 1 else logging.INFO
    for name in ("gonogo", "uvicorn"):  # uvicorn.error propagates to uvicorn; serve() logs no access
        logger = logging.getLogger(name)
        logger.handlers[:] = [_json_handler()]
        logger.propagate = False
        logger.setLevel(level)
    # The Jira gateway logs every request at DEBUG; below -vv keep it to retries and problems.
    logging.getLogger("gonogo.jira.gateway").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    others = _json_handler()
    others.addFilter(AcceptErrorsOncePerInterval())
    route_other_loggers(others, level=logging.WARNING)


def _json_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    handler.addFilter(RedactRecords())
    return handler


def log_delivery(**fields: Any) -> None:
    """The one line per delivery: delivery, ticket, event, outcome, verdict, latency_ms, ..."""
    logging.getLogger(DELIVERY_LOGGER).info("delivery", extra=fields)
