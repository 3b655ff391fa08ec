"""The service's log: one JSON object per line on stderr, one `delivery` line per delivery.

JSON so that a log pipeline can filter on the delivery id or the ticket without parsing prose, and
so that nothing a sender put in a header can forge a line (every value is JSON-escaped). The last
line of defence is a filter that blanks every configured secret in whatever gets logged.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

DELIVERY_LOGGER = "gonogo.webhook.delivery"
# Record attributes that are not ours to print (uvicorn adds an ANSI-coloured copy of its messages).
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonLines(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...extra fields}`, one per line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                document[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            document["error"] = record.exc_info[0].__name__  # the class only: a traceback may quote data
        return json.dumps(document, ensure_ascii=False, default=str)


class Redact(logging.Filter):
    """Replace every secret value anywhere in the formatted line with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg, record.args = self._clean(record.getMessage()), None
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, self._clean(value))
        return True

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def setup_service_logging(*, secrets: Iterable[str], verbose: int) -> None:
    """Route gonogo's and uvicorn's loggers to stderr as JSON lines, secrets blanked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    handler.addFilter(Redact(secrets))
    level = logging.DEBUG if verbose > 1 else logging.INFO
    for name in ("gonogo", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(level)
    # The Jira gateway logs every request at DEBUG; below -vv keep it to retries and problems.
    logging.getLogger("gonogo.jira_gateway").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True  # the delivery line says more, once


def log_delivery(**fields: Any) -> None:
    """The one line per delivery: delivery, ticket, event, outcome, verdict, latency_ms, ..."""
    logging.getLogger(DELIVERY_LOGGER).info("delivery", extra=fields)
