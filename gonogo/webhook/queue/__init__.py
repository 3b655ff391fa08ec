"""The durable queue: `local` (persist-queue, one process) or `redis` (Streams, many processes)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import closing
from typing import TypeAlias

from gonogo.core.errors import ConfigurationError
from gonogo.webhook.queue.base import Claimed, DeadLetter, Job, QueueUnavailable
from gonogo.webhook.queue.local import LocalQueue, read_dead_letters
from gonogo.webhook.queue.redis import RedisQueue
from gonogo.webhook.settings import QueueSettings

__all__ = ["Claimed", "DeadLetter", "Job", "QueueUnavailable", "WorkQueue", "check_queue", "open_queue"]

WorkQueue: TypeAlias = LocalQueue | RedisQueue  # the contract is in `gonogo.webhook.queue.base`


def open_queue(settings: QueueSettings, *, clock: Callable[[], float] = time.time) -> WorkQueue:
    return (RedisQueue if settings.kind == "redis" else LocalQueue)(settings, clock=clock)


def dead_letters(settings: QueueSettings) -> list[DeadLetter]:
    """For `gonogo dead-letters`: read beside a running service, without taking over its work."""
    if settings.kind != "redis":
        return read_dead_letters(settings.path)
    with closing(RedisQueue(settings, reader=True)) as queue:
        return queue.dead_letters()


def check_queue(settings: QueueSettings) -> tuple[bool, str, dict[str, str]]:
    """For `doctor --service`: (usable, what, details), without touching a running service's work."""
    if settings.kind == "redis":
        try:
            queue = RedisQueue(settings, reader=True)
        except ConfigurationError as error:
            return False, "redis-error", {"error": str(error)}
        queue.close()
        return True, "redis", {"where": queue.where}
    folder = settings.path
    existing = folder if folder.exists() else folder.parent
    usable = existing.is_dir() and os.access(existing, os.W_OK)
    return usable, "local" if usable else "local-unwritable", {"folder": str(folder)}
