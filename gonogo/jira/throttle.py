"""One pause shared by every thread that talks to Jira, so a rate limit slows the whole run.

A gateway retries its own 429 after the Retry-After Jira sends, but with several workers the
others would keep sending meanwhile and earn 429s of their own: that is hammering. A `Throttle`
is handed to every gateway of a run. When any response says "wait" (429 or 503 with Retry-After,
or Cloud's `X-RateLimit-NearLimit: true`), the throttle holds back every thread's *next* request
until that time has passed. The clock and the sleep are injected so tests run in virtual time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Without a Retry-After, a 429 or 503 still means "slow down": nobody sends for this long.
DEFAULT_HOLD_SECONDS = 1.0
# Cloud's "fewer than 20% of your budget left": a short breather for everybody, not a stop.
NEAR_LIMIT_HOLD_SECONDS = 1.0


class Throttle:
    """Thread-safe "nobody sends before T" gate; `hold_off` moves T later, never earlier."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_hold_seconds: float = 60.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_hold = max_hold_seconds
        self._lock = threading.Lock()
        self._resume_at = float("-inf")
        self.holds = 0  # how many times Jira told us to slow down (for the log and tests)
        self.waited_seconds = 0.0  # total time threads spent held back

    def hold_off(self, seconds: float) -> None:
        """Jira asked for a pause of `seconds`: no thread sends anything before it is over.

        Capped at `max_hold_seconds` (the gateway fails a longer Retry-After outright).
        """
        seconds = min(max(0.0, seconds), self._max_hold)
        with self._lock:
            self.holds += 1
            self._resume_at = max(self._resume_at, self._clock() + seconds)

    def wait_turn(self) -> None:
        """Block until no pause is in force; called before every request attempt.

        Loops because another thread may extend the pause while this one sleeps.
        """
        while True:
            with self._lock:
                delay = self._resume_at - self._clock()
                if delay <= 0:
                    return
                self.waited_seconds += delay
            self._sleep(delay)

    def observe(self, status: int, retry_after: float | None, *, near_limit: bool) -> None:
        """Learn from one response: a 429/503 or a near-limit warning pauses everybody."""
        if status in (429, 503):
            self.hold_off(DEFAULT_HOLD_SECONDS if retry_after is None else retry_after)
        elif near_limit:
            self.hold_off(NEAR_LIMIT_HOLD_SECONDS)
