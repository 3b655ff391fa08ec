"""Pauses shared by every thread that talks to Jira, so that one thread's 429 holds the others back too,
as widely as the limit Jira named in `RateLimit-Reason` (docs/jira.md, "Rate limits by what was
limited"), no wider. `stop()` (Ctrl-C on `gonogo report --post`) makes every next request raise
`RunStopped`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from gonogo.jira.rest import Answer, retry_after_seconds

DEFAULT_HOLD_SECONDS = 1.0  # a 429 or 503 without a Retry-After still means "slow down"
NEAR_LIMIT_HOLD_SECONDS = 1.0  # Cloud's "fewer than 20% of your budget left": a breather, not a stop
_WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_REST_PATH = re.compile(r"/rest/(?:api|webhooks)/[^/]+/(?P<rest>.*)$")

Scope = tuple[str, ...]
EVERYTHING: Scope = ("everything",)


def request_scopes(method: str, url: str) -> list[Scope]:
    """Every scope a hold may have that covers this request: everything, its endpoint, its issue's writes."""
    method, path = method.upper(), urlsplit(url).path
    match = _REST_PATH.search(path)
    parts = (match.group("rest") if match else path.lstrip("/")).split("/")
    # Ids and keys (10001, BID-7) are parameters, not endpoints; REST v2 and v3 are one endpoint.
    template = "/".join("{}" if any(c.isdigit() for c in part) else part for part in parts)
    scopes = [EVERYTHING, ("endpoint", method, template)]
    if method in _WRITES and len(parts) > 1 and parts[0] == "issue":
        scopes.append(("issue-writes", parts[1].upper()))
    return scopes


class RunStopped(KeyboardInterrupt):
    """The run was interrupted: no further request is sent. A KeyboardInterrupt, so that nothing
    that handles a failed ticket (`except Exception`) or retries a request mistakes it for one."""


class Throttle:
    """Thread-safe "nothing in this scope is sent before T" gates; a hold moves T later, never earlier."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        max_hold_seconds: float = 60.0,
    ) -> None:
        self._clock = clock
        self._stopped = threading.Event()
        self._sleep = sleep or self._stopped.wait  # a pause that `stop` cuts short
        self._max_hold = max_hold_seconds  # the transport fails a longer Retry-After outright
        self._lock = threading.Lock()
        self._resume_at: dict[Scope, float] = {}

    def hold(self, seconds: float, scope: Scope = EVERYTHING) -> None:
        seconds = min(max(0.0, seconds), self._max_hold)
        with self._lock:
            self._resume_at[scope] = max(self._resume_at.get(scope, float("-inf")), self._clock() + seconds)

    def wait_turn(self, method: str, url: str) -> None:
        """Block until no hold covers this request (another thread may extend one meanwhile)."""
        scopes = request_scopes(method, url)
        while True:
            if self._stopped.is_set():
                raise RunStopped
            with self._lock:
                delay = max(self._resume_at.get(scope, float("-inf")) for scope in scopes) - self._clock()
                if delay <= 0:
                    return
            self._sleep(delay)

    def stop(self) -> None:
        self._stopped.set()

    def pause(self, seconds: float) -> None:
        """A retry's back-off that `stop` cuts short (the run then ends at the next `wait_turn`)."""
        self._sleep(seconds)

    def observe(self, answer: Answer, method: str, url: str) -> None:
        """Learn from one answer's status and rate-limit headers (`RateLimit-Reason`: see the module)."""
        retry_after = retry_after_seconds(answer.headers.get("Retry-After"), datetime.now(UTC))
        seconds = DEFAULT_HOLD_SECONDS if retry_after is None else retry_after
        reason = answer.headers.get("RateLimit-Reason")
        limited = request_scopes(method, url) if answer.status == 429 else []
        scopes = {scope[0]: scope for scope in limited}
        if reason == "jira-per-issue-on-write" and "issue-writes" in scopes:
            self.hold(seconds, scopes["issue-writes"])
        elif reason == "jira-burst-based" and scopes:
            self.hold(seconds, scopes["endpoint"])
        elif answer.status in (429, 503):
            self.hold(seconds)
        elif answer.headers.get("X-RateLimit-NearLimit", "").lower() == "true":
            self.hold(NEAR_LIMIT_HOLD_SECONDS)
