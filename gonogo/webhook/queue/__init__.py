"""The durable queue: `local` (persist-queue, one process) or `redis` (Streams, many processes)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from gonogo.core.errors import ConfigurationError
from gonogo.webhook.queue.base import Claimed, DeadLetter, Job, QueueUnavailable, WorkQueue
from gonogo.webhook.queue.local import LocalQueue
from gonogo.webhook.queue.redis import RedisQueue, describe
from gonogo.webhook.settings import QueueSettings

__all__ = ["Claimed", "DeadLetter", "Job", "QueueUnavailable", "WorkQueue", "check_queue", "open_queue"]


def open_queue(
    settings: QueueSettings, *, reader: bool = False, clock: Callable[[], float] = time.time
) -> WorkQueue:
    """The configured backend; `reader`: only to list dead letters beside a running service."""
    if settings.kind == "redis":
        return RedisQueue(settings, reader=reader, clock=clock)
    return LocalQueue(settings, reader=reader, clock=clock)


def check_queue(settings: QueueSettings) -> tuple[bool, str, dict[str, str]]:
    """For `doctor --service`: (usable, what, details), without touching a running service's work."""
    if settings.kind == "redis":
        try:
            open_queue(settings, reader=True).close()
        except ConfigurationError as error:
            return False, "redis-error", {"error": str(error)}
        return True, "redis", {"where": describe(settings.redis_url.reveal())}
    folder = settings.path
    existing = folder if folder.exists() else folder.parent
    if existing.is_dir() and os.access(existing, os.W_OK):
        return True, "local", {"folder": str(folder)}
    return False, "local-unwritable", {"folder": str(folder)}


def dead_letter_lines(letters: list[DeadLetter]) -> Iterator[dict[str, Any]]:
    """Dead letters as plain records, for `gonogo dead-letters`."""
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
    return datetime.fromtimestamp(unix_time, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
