"""Secrets out of every string and log line that leaves gonogo: one redactor per process.

A secret reaches the user by many roads (a library's log record, Jira quoting our request, a
dead-letter reason printed days later), so whoever reads a secret registers it here and every output
calls `redact`. Its base64 (HTTP basic auth) and URL-encoded forms are blanked too.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

# Shorter values would blank ordinary text (a one-letter "secret" would eat every "a").
_MIN_SECRET_LENGTH = 4
# Record attributes that are not ours to print (uvicorn adds an ANSI-coloured copy of its messages).
STANDARD_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class _Redactor:
    """Every remembered secret and its encoded forms, longest first, so a secret that contains another is
    blanked whole; replaced as a whole under the lock, so `redact` may read them from any thread."""

    def __init__(self) -> None:
        self._forms: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def remember(self, *secrets: str | None) -> None:
        """Blank these values from now on (None and very short values are ignored)."""
        new = {
            form
            for secret in secrets
            if secret and len(secret) >= _MIN_SECRET_LENGTH
            for form in (secret, quote(secret, safe=""), *_base64_forms(secret))
        }
        with self._lock:
            self._forms = tuple(sorted({*self._forms, *new}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """`text` with every secret this process knows blanked: call it on anything that leaves gonogo."""
        for form in self._forms:
            text = text.replace(form, "***")
        return text


_REDACTOR = _Redactor()  # one per process: see the module docstring
remember, redact = _REDACTOR.remember, _REDACTOR.redact


def remember_credentials(user: str | None, token: str | None) -> None:
    """A Jira token, and with a user the `Authorization: Basic` value, which holds it encoded."""
    remember(token, *(_base64_forms(f"{user}:{token}") if user and token else ()))


def remember_url_password(url: str | None) -> None:
    """The password inside a URL such as `redis://:password@host:6379/0`."""
    remember(urlsplit(url).password if url else None)


def _base64_forms(text: str) -> set[str]:
    raw = text.encode("utf-8")
    encoded = (base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii"))
    return {form for value in encoded for form in (value, value.rstrip("="))}


def redact_data(value: Any) -> Any:
    """JSON-shaped data with every string redacted before serialising (escaping could split a secret)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(key): redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


def remember_environment(environ: Mapping[str, str]) -> None:
    """The secrets a command can find in its environment, registered before anything runs (the webhook
    service adds those it reads from files)."""
    remember(environ.get("GONOGO_WEBHOOK_SECRET"), environ.get("GONOGO_WEBHOOK_TOKEN"))
    remember_credentials(environ.get("JIRA_USER"), environ.get("JIRA_API_TOKEN"))
    remember_url_password(environ.get("GONOGO_REDIS_URL"))


class RedactRecords(logging.Filter):
    """Blank secrets in a log record's message and extra fields, whoever logged it; other libraries'
    records are cut to their first line and 300 characters (one may log a whole Jira response body)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not str(record.name).startswith("gonogo"):
            line = message.strip().split("\n", 1)[0].strip()
            message = line if len(line) <= 300 else line[:299] + "…"
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.msg, record.args = redact(message), None
        for name, value in list(record.__dict__.items()):
            if name not in STANDARD_RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


_installed: list[logging.Handler] = []


def route_other_loggers(handler: logging.Handler, *, level: int) -> None:
    """Send records of loggers without a handler of their own to `handler` (replacing the one an earlier
    call installed): Python's last-resort handler, or the one `logging.error()` installs, is unredacted.
    One handler on the root logger closes that road for every library; handlers others put there stay."""
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    handler.setLevel(level)
    root.addHandler(handler)
    _installed[:] = [handler]
