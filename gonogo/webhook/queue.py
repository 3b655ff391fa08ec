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

Backends: `queue_local` (persist-queue's SQLite ack queue, no server needed) and `queue_redis`
(Redis Streams with a consumer group, for several instances).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from gonogo.webhook.settings import QueueSettings


@dataclass(frozen=True)
class Job:
    """One accepted delivery: which ticket to check, and what the log line needs to say about it."""

    delivery_id: str
    key: str
    issue_id: str | None
    event: str
    received_at: float  # Unix time the delivery arrived, for time-to-comment

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
        )


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

    def ticket_lock(self, names: tuple[str, ...]) -> AbstractContextManager[None]:
        """Hold these per-ticket locks (see `Job.lock_names`) for the duration of a check."""
        ...

    def dead_letters(self) -> list[DeadLetter]: ...

    def depth(self) -> int:
        """Jobs accepted but not finished: waiting plus in progress."""
        ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...


def open_queue(settings: QueueSettings, *, reader: bool = False) -> WorkQueue:
    """Open the configured backend. `reader`: only to list dead letters, beside a running service."""
    # Imported here so that the backend not chosen (and its client library) is never loaded.
    if settings.kind == "redis":
        from gonogo.webhook.queue_redis import RedisQueue  # noqa: PLC0415

        return RedisQueue(settings, reader=reader)
    from gonogo.webhook.queue_local import LocalQueue  # noqa: PLC0415

    return LocalQueue(settings, reader=reader)


def dead_letter_lines(letters: list[DeadLetter]) -> Iterator[dict[str, Any]]:
    """Dead letters as plain records, for the listing command's JSON and text output."""
    for letter in letters:
        yield {
            "delivery": letter.job.delivery_id,
            "ticket": letter.job.key,
            "issue_id": letter.job.issue_id,
            "event": letter.job.event,
            "received_at": letter.job.received_at,
            "failed_at": letter.failed_at,
            "attempts": letter.attempts,
            "reason": letter.reason,
        }
