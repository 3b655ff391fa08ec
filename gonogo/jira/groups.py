"""Members of the Jira groups that may approve waivers, asked for once per group per run (or per hour).

On several threads, the first that needs a group fetches it and the others wait for that answer. A
configuration failure (an unknown group) is remembered too; a passing outage is not. `gonogo serve`
gives answers a lifetime, so a removed approver stops counting within it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gonogo.core.errors import ConfigurationError

Fetch = Callable[[str], frozenset[str]]


class GroupDirectory:
    """A process-wide cache of group members (case-folded ids), filled by whichever gateway asks first.
    `lifetime_seconds` None: an answer is kept for the whole process (a report's run)."""

    def __init__(
        self, *, lifetime_seconds: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._group_locks: dict[str, threading.Lock] = {}
        self._members: dict[str, tuple[float, frozenset[str] | ConfigurationError]] = {}
        self._lifetime = lifetime_seconds
        self._clock = clock

    def members(self, group: str, fetch: Fetch) -> frozenset[str]:
        with self._lock:
            group_lock = self._group_locks.setdefault(group, threading.Lock())
        with group_lock:
            now = self._clock()
            fetched_at, known = self._members.get(group, (now, None))
            if known is None or (self._lifetime is not None and now - fetched_at >= self._lifetime):
                try:
                    known = frozenset(member.casefold() for member in fetch(group))
                except ConfigurationError as exc:
                    known = exc
                self._members[group] = (now, known)
        if isinstance(known, ConfigurationError):
            raise known
        return known
