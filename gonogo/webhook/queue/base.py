"""The contract between "delivery acknowledged" and "verdict posted", held by both backends.

`submit` returns once the job is durably stored (the 200 comes after it) and refuses a delivery id
seen within the dedupe window. `claim` hands a job to one worker; it stays stored until `complete`
or `dead_letter`, so a process killed mid-check leaves it to run again (at-least-once; the sticky
comment makes a re-run harmless). `ticket_lock` keeps two checks of one ticket apart.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol


@dataclass(frozen=True)
class Job:
    """One accepted delivery: the ticket to check, and what its log line says."""

    delivery_id: str
    key: str
    issue_id: str | None
    event: str
    received_at: float  # Unix time, for time-to-comment across restarts
    attempts: int = 0  # failed checks worth waiting out
    not_before: float = 0.0  # Unix time of the end of its back-off

    @property
    def ticket(self) -> str:
        """The id when known: it survives a move to another project; the key does not."""
        return self.issue_id or self.key

    def lock_names(self) -> tuple[str, ...]:
        """Id and key (an Automation body may name only the key), in a fixed order: no deadlock."""
        return (f"id:{self.issue_id}", f"key:{self.key}") if self.issue_id else (f"key:{self.key}",)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Job:
        data: dict[str, Any] = json.loads(text)
        return cls(
            delivery_id=str(data["delivery_id"]),
            key=str(data["key"]),
            issue_id=str(data["issue_id"]) if data.get("issue_id") else None,
            event=str(data["event"]),
            received_at=float(data["received_at"]),
            attempts=int(data.get("attempts", 0)),
            not_before=float(data.get("not_before", 0.0)),
        )

    def later(self, *, attempts: int, not_before: float) -> Job:
        return replace(self, attempts=attempts, not_before=not_before)


@dataclass(frozen=True)
class Claimed:
    job: Job
    receipt: str  # the backend's handle for settling it


@dataclass(frozen=True)
class DeadLetter:
    job: Job
    reason: str
    attempts: int
    failed_at: float


class QueueUnavailable(Exception):
    """The queue could not store or hand out work (Redis down, disk full)."""


class WorkQueue(Protocol):
    def submit(self, job: Job, *, dedupe: bool) -> bool:
        """Store durably; False when `dedupe` and the delivery id was accepted before."""
        ...

    def claim(self, timeout: float) -> Claimed | None: ...

    def complete(self, claimed: Claimed) -> None: ...

    def dead_letter(self, claimed: Claimed, *, reason: str, attempts: int) -> None: ...

    def release(self, claimed: Claimed) -> None:
        """Hand an unfinished job back so that it runs again soon."""
        ...

    def retry_later(self, claimed: Claimed, job: Job) -> None:
        """Replace the claimed entry by `job`; `claim` hands it out from `job.not_before` on."""
        ...

    def ticket_lock(self, names: tuple[str, ...]) -> AbstractContextManager[None]: ...

    def dead_letters(self) -> list[DeadLetter]: ...

    def depth(self) -> int:
        """Jobs accepted and not finished (waiting or in progress); -1 when unknown."""
        ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...


class Backoffs:
    """Claimed jobs waiting for their `not_before`, soonest first: held by the queue, not a worker,
    so one ticket's back-off never holds a worker. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: list[tuple[float, int, Claimed]] = []
        self._order = itertools.count()

    def hold(self, claimed: Claimed) -> None:
        with self._lock:
            heapq.heappush(self._waiting, (claimed.job.not_before, next(self._order), claimed))

    def due(self) -> Claimed | None:
        with self._lock:
            if self._waiting and self._waiting[0][0] <= self._clock():
                return heapq.heappop(self._waiting)[2]
            return None

    def seconds_to_next(self, limit: float) -> float:
        with self._lock:
            if not self._waiting:
                return limit
            return max(0.0, min(limit, self._waiting[0][0] - self._clock()))

    def held_if_early(self, claimed: Claimed) -> bool:
        """Hold `claimed` when its time has not come (a job read back after a restart)."""
        if claimed.job.not_before > self._clock():
            self.hold(claimed)
            return True
        return False
