"""Scripted misbehaviour: canned error answers and requests held open.

Tests arm a rule for the next N requests matching a method and a path regex;
the HTTP layer consults these rules before it emulates Jira, so a fault can
stand in for any endpoint (including ones that need no authentication).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .shapes import error_collection

GARBLED_JSON = b'{"errorMessages": ["truncated'
"""A body that claims to be JSON but cannot be parsed (a proxy cut it short)."""

_DEFAULT_MESSAGES = {
    401: "You are not authenticated. Authentication required to perform this operation.",
    403: "You do not have permission to perform this operation.",
    404: "Issue does not exist or you do not have permission to see it.",
    429: "Rate limit exceeded.",
}


@dataclass
class CannedAnswer:
    """An answer to send instead of the emulated one."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Rule:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    answer: CannedAnswer | None = None
    gate: threading.Event | None = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.method in ("*", method) and bool(self.pattern.search(path))


def encode_body(status: int, body: Mapping[str, Any] | list[Any] | str | bytes | None) -> bytes:
    """Bytes for a canned body: JSON for data, raw for str/bytes, an ErrorCollection by default."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if body is None:
        if status < 400:
            return b""
        message = _DEFAULT_MESSAGES.get(status, HTTPStatus(status).phrase)
        return json.dumps(error_collection([message])).encode("utf-8")
    return json.dumps(body).encode("utf-8")


class FaultBook:
    """Armed fault and hang rules, consumed first-come first-served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._gate = threading.Event()
        self._held = 0
        self._on_gate = 0  # held on the current gate: all in flight together, none answered yet
        self._most_held = 0

    def add_answer(self, method: str, path_regex: str, answer: CannedAnswer, *, times: int) -> None:
        """Answer the next ``times`` matching requests with ``answer``."""
        rule = _Rule(method.upper(), re.compile(path_regex), times, answer=answer)
        with self._lock:
            self._rules.append(rule)

    def add_hang(self, method: str, path_regex: str, *, times: int) -> None:
        """Hold the next ``times`` matching requests until ``release`` or ``close``."""
        with self._lock:
            rule = _Rule(method.upper(), re.compile(path_regex), times, gate=self._gate)
            self._rules.append(rule)

    def take(self, method: str, path: str) -> CannedAnswer | threading.Event | None:
        """Consume the first rule matching this request: a canned answer, a gate, or None."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method.upper(), path):
                    rule.remaining -= 1
                    self._rules = [kept for kept in self._rules if kept.remaining > 0]
                    if rule.answer is not None:
                        return rule.answer
                    self._held += 1
                    self._on_gate += 1
                    self._most_held = max(self._most_held, self._on_gate)
                    return rule.gate
            return None

    def wait(self, gate: threading.Event) -> None:
        """Block the calling request thread until its gate opens (no polling)."""
        gate.wait()
        with self._lock:
            self._held -= 1

    @property
    def held(self) -> int:
        """How many requests are being held right now."""
        with self._lock:
            return self._held

    @property
    def most_held(self) -> int:
        """The most requests ever held behind one gate: a count of requests that were in flight
        at the same moment, readable after the run (a concurrency limit proved without a wait)."""
        with self._lock:
            return self._most_held

    def release(self) -> None:
        """Let every held request proceed; later hang rules get a fresh gate."""
        with self._lock:
            self._gate.set()
            self._on_gate = 0
            fresh = threading.Event()
            for rule in self._rules:
                if rule.gate is self._gate:
                    rule.gate = fresh
            self._gate = fresh

    def close(self) -> None:
        """Open every gate for good: the server is stopping."""
        with self._lock:
            self._gate.set()
            for rule in self._rules:
                if rule.gate is not None:
                    rule.gate.set()

    def clear(self) -> None:
        """Forget unused rules (held requests stay held until released)."""
        with self._lock:
            self._rules = []
