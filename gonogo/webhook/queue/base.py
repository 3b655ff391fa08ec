"""The contract between "delivery acknowledged" and "verdict posted", held by both backends.

`submit` returns once the job is durably stored (the 200 comes after it) and refuses a delivery id
seen within the dedupe window. `claim` hands a job to one worker; it stays stored until `complete`
or `dead_letter`, so a process killed mid-check leaves it to run again (at-least-once; the sticky
comment makes a re-run harmless). `release` hands an unfinished job back to run again soon;
`retry_later` replaces it by a copy that `claim` hands out from its `not_before` on. `ticket_lock`
keeps two checks of one ticket apart. `depth` counts the jobs accepted and not finished (waiting or
in progress), -1 when unknown. Every storage failure is raised as `QueueUnavailable`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any


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

    def lock_names(self) -> tuple[str, ...]:
        """Id and key (an Automation body may name only the key), in a fixed order: no deadlock."""
        return (f"id:{self.issue_id}", f"key:{self.key}") if self.issue_id else (f"key:{self.key}",)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Job:
        return cls(**json.loads(text))


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

    def record(self) -> dict[str, str | int | float]:
        job, at = self.job.to_json(), self.failed_at
        return {"job": job, "reason": self.reason, "attempts": self.attempts, "at": at}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DeadLetter:
        job = Job.from_json(record["job"])
        return cls(job, str(record["reason"]), int(record["attempts"]), failed_at=float(record["at"]))


class QueueUnavailable(Exception):
    """The queue could not store or hand out work (Redis down, disk full)."""


class QueueBase(ABC):
    """What both backends share: jobs claimed before their back-off ends wait here, soonest first,
    so one ticket's back-off never holds a worker."""

    _storage_errors: type[Exception]  # the backend's own errors, raised as QueueUnavailable
    _name: str  # the queue, in those errors' messages

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._waiting: list[tuple[float, int, Claimed]] = []
        self._waiting_guard = threading.Lock()
        self._order = itertools.count()

    def claim(self, timeout: float) -> Claimed | None:
        deadline = time.monotonic() + timeout
        while True:
            with self._waiting_guard:
                now = self._clock()
                if self._waiting and self._waiting[0][0] <= now:
                    return heapq.heappop(self._waiting)[2]
                next_due = self._waiting[0][0] - now if self._waiting else timeout
            left = deadline - time.monotonic()
            if left < 0:
                return None
            claimed = self._read(min(left, next_due))
            if claimed is not None and claimed.job.not_before <= self._clock():
                return claimed
            if claimed is not None:
                self._hold(claimed)

    def _hold(self, claimed: Claimed) -> None:
        with self._waiting_guard:
            heapq.heappush(self._waiting, (claimed.job.not_before, next(self._order), claimed))

    @contextmanager
    def _storing(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._storage_errors as exc:
            raise QueueUnavailable(f"{self._name} could not {what} ({exc})") from exc

    @abstractmethod
    def _read(self, block: float) -> Claimed | None:
        """The next stored job, waiting up to `block` seconds for one."""
