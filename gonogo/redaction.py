"""Secrets out of every string that leaves gonogo: one redactor per process, fed by whoever reads one.

One process-wide redactor rather than a filter per output, because a secret reaches the user by
many roads (a library's log record, Jira quoting our request, a dead-letter reason printed days
later). Whoever reads a secret registers it; every output calls `redact`. A secret is also blanked
in the forms it travels in: base64 (HTTP basic auth) and URL-encoded.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

MASK = "***"
# Shorter values would blank ordinary text (a one-letter "secret" would eat every "a").
_MIN_SECRET_LENGTH = 4
# Environment variables that hold secrets (the webhook service adds those it reads from files).
SECRET_VARIABLES = ("JIRA_API_TOKEN", "GONOGO_WEBHOOK_SECRET", "GONOGO_WEBHOOK_TOKEN")
REDIS_URL_VARIABLE = "GONOGO_REDIS_URL"


class Redactor:
    """Replaces every remembered secret, and its encoded forms, with `***`. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forms: tuple[str, ...] = ()

    def remember(self, *secrets: str | None) -> None:
        """Blank these values from now on (None and very short values are ignored)."""
        new = {
            form
            for secret in secrets
            if secret and len(secret) >= _MIN_SECRET_LENGTH
            for form in _encoded_forms(secret)
        }
        with self._lock:  # longest first, so a secret that contains another is blanked whole
            self._forms = tuple(sorted({*self._forms, *new}, key=len, reverse=True))

    def remember_credentials(self, user: str | None, token: str | None) -> None:
        """A Jira token, and with a user the `Authorization: Basic` value, which holds it encoded."""
        self.remember(token)
        if user and token:
            self.remember(*_base64_forms(f"{user}:{token}"))

    def remember_url_password(self, url: str | None) -> None:
        """The password inside a URL such as `redis://:password@host:6379/0`."""
        if url:
            self.remember(urlsplit(url).password)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text


def _encoded_forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), *_base64_forms(secret)}


def _base64_forms(text: str) -> set[str]:
    raw = text.encode("utf-8")
    encoded = {base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")}
    return {
        form for value in encoded for form in (value, value.rstrip("=")) if len(form) >= _MIN_SECRET_LENGTH
    }


REDACTOR = Redactor()


def redact(text: str) -> str:
    """`text` with every secret this process knows blanked: call it on anything that leaves gonogo."""
    return REDACTOR(text)


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
    """The secrets a command can find in its environment, registered before anything runs."""
    REDACTOR.remember(*(environ.get(name) for name in SECRET_VARIABLES))
    REDACTOR.remember_credentials(environ.get("JIRA_USER"), environ.get("JIRA_API_TOKEN"))
    REDACTOR.remember_url_password(environ.get(REDIS_URL_VARIABLE))


class RedactRecords(logging.Filter):
    """Blank secrets in a log record's message and extra fields, whoever logged it.

    Other libraries' records are also cut to their first line and `limit` characters: a library may
    log a whole response body (raw Jira text) after its first line.
    """

    def __init__(self, *, standard: Iterable[str], own_prefix: str = "gonogo", limit: int = 300) -> None:
        super().__init__()
        self._standard = frozenset(standard)
        self._own_prefix = own_prefix
        self._limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not str(record.name).startswith(self._own_prefix):
            message = _first_line(message, self._limit)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.msg, record.args = redact(message), None
        for name, value in list(record.__dict__.items()):
            if name not in self._standard and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


def _first_line(text: str, limit: int) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
