"""The durable queue between "delivery acknowledged" and "verdict posted": the contract.

Every backend gives the same guarantees, which the tests hold each one to:

- `submit` returns only once the job is durably stored (the HTTP 200 comes after it), and refuses a
  delivery id it has already accepted within the dedupe window. Check-and-store is atomic, so ten
  concurrent copies of one delivery enqueue one job.
- `claim` hands a job to one worker; it stays in the queue, invisible to others, until `complete`
  or `dead_letter`. If the process dies first, the job runs again after a restart (local) or after
  its lease runs out (Redis): at-least-once. Re-running is safe because the verdict comment is sticky.
- `ticket_lock` serialises work on one ticket across worker threads and, for Redis, across instances,
  because two concurrent first checks of one ticket could both post a comment.

Backends: `queue.local` (persist-queue's SQLite ack queue, no server needed) and `queue.redis`
(Redis Streams with a consumer group, for several instances).
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from gonogo.webhook.settings import QueueSettings


@dataclass(frozen=True)
class Job:
    """One accepted delivery: which ticket to check, and what the log line needs to say about it."""

    delivery_id: str
    key: str
    issue_id: str | None
    event: str
    received_at: float  # Unix time the delivery arrived, for time-to-comment
    attempts: int = 0  # checks already tried and failed with trouble worth waiting out
    not_before: float = 0.0  # Unix time before which the job must not run (its back-off)

    @property
    def ticket(self) -> str:
        """What to fetch: the id when known (it survives a move to another project), else the key."""
        return self.issue_id or self.key

    def lock_names(self) -> tuple[str, ...]:
        """Locks to hold while checking, in a fixed order so two jobs can never deadlock.

        Both the id and the key: a webhook names both, an Automation body may name only the key.
        """
        names = [f"key:{self.key}"]
        if self.issue_id:
            names.insert(0, f"id:{self.issue_id}")
        return tuple(names)

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
        """This job after `attempts` failed checks, not to run again before `not_before`."""
        return replace(self, attempts=attempts, not_before=not_before)


@dataclass(frozen=True)
class Claimed:
    """A job a worker holds; `receipt` is the backend's handle for acknowledging it."""

    job: Job
    receipt: str


@dataclass(frozen=True)
class DeadLetter:
    """A job that kept failing: kept, with why, until someone looks (`gonogo dead-letters`)."""

    job: Job
    reason: str
    attempts: int
    failed_at: float


class QueueUnavailable(Exception):
    """The queue could not store or hand out work (Redis down, disk full): the delivery is not accepted."""


class WorkQueue(Protocol):
    def submit(self, job: Job, *, dedupe: bool) -> bool:
        """Store `job` durably; False when `dedupe` and its delivery id was accepted before."""
        ...

    def submit_many(self, jobs: Sequence[tuple[Job, bool]]) -> list[bool]:
        """`submit` for each (job, dedupe) pair, stored together where the backend can (one commit)."""
        ...

    def nudge(self) -> None:
        """Another process stored jobs: hand them out without waiting for the next poll."""
        ...

    def claim(self, timeout: float) -> Claimed | None:
        """The next job, or None after `timeout` seconds without one."""
        ...

    def complete(self, claimed: Claimed) -> None:
        """The check finished: remove the job for good."""
        ...

    def dead_letter(self, claimed: Claimed, *, reason: str, attempts: int) -> None:
        """The check kept failing: move the job where `dead_letters` lists it."""
        ...

    def release(self, claimed: Claimed) -> None:
        """Give an unfinished job back (at shutdown, or after a failure) so it runs again soon."""
        ...

    def retry_later(self, claimed: Claimed, job: Job) -> None:
        """Store `job` (the claimed one with its attempts and `not_before`) in place of the claimed
        entry; `claim` hands it out again only from `job.not_before` on, and no worker waits for it."""
        ...

    def ticket_lock(self, names: tuple[str, ...]) -> AbstractContextManager[None]:
        """Hold these per-ticket locks (see `Job.lock_names`) for the duration of a check."""
        ...

    def dead_letters(self) -> list[DeadLetter]: ...

    def depth(self) -> int:
        """Jobs accepted but not finished: waiting plus in progress."""
        ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...


def open_queue(
    settings: QueueSettings,
    *,
    reader: bool = False,
    role: Literal["all", "intake", "checks"] = "all",
    on_stored: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> WorkQueue:
    """Open the configured backend. `reader`: only to list dead letters, beside a running service.

    `role`: which side of `gonogo serve` opens it, "intake" (stores deliveries; `on_stored` runs
    after each commit that stored one) or "checks" (hands out and settles jobs), or "all" of it.
    Redis serves every side from any process alike; the local queue splits (see `LocalQueue`).
    `clock` tells when a job held for its back-off is due (tests pass a fake one).
    """
    # Imported here so that the backend not chosen (and its client library) is never loaded.
    if settings.kind == "redis":
        from gonogo.webhook.queue.redis import RedisQueue  # noqa: PLC0415

        return RedisQueue(settings, reader=reader, clock=clock)
    from gonogo.webhook.queue.local import LocalQueue  # noqa: PLC0415

    return LocalQueue(settings, reader=reader, role=role, on_stored=on_stored, clock=clock)


def dead_letter_lines(letters: list[DeadLetter]) -> Iterator[dict[str, Any]]:
    """Dead letters as plain records, for the listing command's JSON and text output."""
    for letter in letters:
        yield {
            "delivery": letter.job.delivery_id,
            "ticket": letter.job.key,
            "issue_id": letter.job.issue_id,
            "event": letter.job.event,
            "received_at": _iso(letter.job.received_at),
            "failed_at": _iso(letter.failed_at),
            "attempts": letter.attempts,
            "reason": letter.reason,
        }


def _iso(unix_time: float) -> str:
    """A Unix time as ISO 8601 UTC to the second, as people and log pipelines read it."""
    return datetime.fromtimestamp(unix_time, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Backoffs:
    """Claimed jobs waiting for their `not_before`, soonest first: held by the queue, not a worker.

    A backend keeps such a job claimed (its entry stays in the queue, so a restart or a lease
    brings it back) and hands it out when it is due. Thread-safe.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: list[tuple[float, int, Claimed]] = []
        self._order = itertools.count()

    def hold(self, claimed: Claimed) -> None:
        with self._lock:
            heapq.heappush(self._waiting, (claimed.job.not_before, next(self._order), claimed))

    def due(self) -> Claimed | None:
        """The soonest job whose time has come, taken out; None if none is due yet."""
        with self._lock:
            if self._waiting and self._waiting[0][0] <= self._clock():
                return heapq.heappop(self._waiting)[2]
            return None

    def seconds_to_next(self, limit: float) -> float:
        """How long until the next job is due, at most `limit` (0 when one is due now)."""
        with self._lock:
            if not self._waiting:
                return limit
            return max(0.0, min(limit, self._waiting[0][0] - self._clock()))

    def not_yet_due(self, claimed: Claimed) -> bool:
        """Hold `claimed` if its time has not come; True when it was held."""
        if claimed.job.not_before > self._clock():
            self.hold(claimed)
            return True
        return False
