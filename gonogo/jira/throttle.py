"""One pause shared by every thread that talks to Jira, so a rate limit slows the whole run.

A gateway retries its own 429 after the Retry-After Jira sends, but with several workers the
others would keep sending meanwhile and earn 429s of their own: that is hammering. A `Throttle`
is handed to every gateway of a run. When any response says "wait" (429 or 503 with Retry-After,
or Cloud's `X-RateLimit-NearLimit: true`), the throttle holds back every thread's *next* request
until that time has passed. The clock and the sleep are injected so tests run in virtual time.

The same gate stops a run: after `stop()` (Ctrl-C on `gonogo report --post`), every thread's next
request raises `RunStopped` instead of being sent, and a thread waiting its turn wakes at once.
Without it, the tickets in hand kept writing (their pointer, healing deletes) after the interrupt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Without a Retry-After, a 429 or 503 still means "slow down": nobody sends for this long.
DEFAULT_HOLD_SECONDS = 1.0
# Cloud's "fewer than 20% of your budget left": a short breather for everybody, not a stop.
NEAR_LIMIT_HOLD_SECONDS = 1.0


class RunStopped(KeyboardInterrupt):
    """The run was interrupted: no further request is sent. A KeyboardInterrupt, so that nothing
    that handles a failed ticket (`except Exception`) or retries a request mistakes it for one."""


class Throttle:
    """Thread-safe "nobody sends before T" gate; `hold_off` moves T later, never earlier."""

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

        Loops because another thread may extend the pause while this one sleeps. Raises
        `RunStopped` once the run was stopped.
        """
        while True:
            if self._stopped.is_set():
                raise RunStopped
            with self._lock:
                delay = self._resume_at - self._clock()
                if delay <= 0:
                    return
                self.waited_seconds += delay
            self._sleep(delay)

    def stop(self) -> None:
        """From now on no thread sends a request: each one's next `wait_turn` raises `RunStopped`."""
        self._stopped.set()

    def pause(self, seconds: float) -> None:
        """A retry's back-off that `stop` cuts short (the run then ends at the next `wait_turn`)."""
        self._sleep(seconds)

    def observe(self, status: int, retry_after: float | None, *, near_limit: bool) -> None:
        """Learn from one response: a 429/503 or a near-limit warning pauses everybody."""
        if status in (429, 503):
            self.hold_off(DEFAULT_HOLD_SECONDS if retry_after is None else retry_after)
        elif near_limit:
            self.hold_off(NEAR_LIMIT_HOLD_SECONDS)
