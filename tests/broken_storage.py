"""Queue storage that fails on demand, through the backends' public seams (no private attributes).

`Disk` is a switch for persist-queue's SQLite queue: `storage_on(disk)` is a subclass of its
`SQLiteAckQueue` whose reads and writes fail as SQLite does on a full disk while the switch says
so; `LocalQueue(settings, storage=...)` uses it. `cuttable_redis()` gives a redis-py client class
for `RedisQueue(settings, client=...)` and a `cut` that points every such client at a port nobody
listens on: Redis unreachable.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import redis
from persistqueue.sqlackqueue import SQLiteAckQueue
from redis.backoff import NoBackoff
from redis.retry import Retry

STORAGE_METHODS = frozenset({"get", "ack", "ack_failed", "update", "nack"})


@dataclass
class Disk:
    """How many more reads or writes fail, and which (math.inf: full until `clear`)."""

    failures_left: float = 0
    methods: frozenset[str] = field(default=STORAGE_METHODS)

    def fill(self, *, times: float = math.inf, methods: Collection[str] = STORAGE_METHODS) -> None:
        self.failures_left, self.methods = times, frozenset(methods)

    def clear(self) -> None:
        self.failures_left = 0

    def use(self, method: str) -> None:
        if method in self.methods and self.failures_left > 0:
            self.failures_left -= 1
            raise sqlite3.OperationalError("database or disk is full")


def storage_on(disk: Disk) -> type[SQLiteAckQueue]:
    """persist-queue's queue class, on `disk`."""

    class OnThisDisk(SQLiteAckQueue):
        def get(self, *args: Any, **kwargs: Any) -> Any:
            disk.use("get")
            return super().get(*args, **kwargs)

        def ack(self, *args: Any, **kwargs: Any) -> Any:
            disk.use("ack")
            return super().ack(*args, **kwargs)

        def ack_failed(self, *args: Any, **kwargs: Any) -> Any:
            disk.use("ack_failed")
            return super().ack_failed(*args, **kwargs)

        def update(self, *args: Any, **kwargs: Any) -> Any:
            disk.use("update")
            return super().update(*args, **kwargs)

        def nack(self, *args: Any, **kwargs: Any) -> Any:
            disk.use("nack")
            return super().nack(*args, **kwargs)

    return OnThisDisk


def cuttable_redis() -> tuple[type[redis.Redis], Callable[[], None]]:
    """A redis-py client class, and `cut`: from then on its clients reach no Redis at all."""
    made: list[redis.Redis] = []

    class Cuttable(redis.Redis):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    def cut() -> None:
        for client in made:
            working = client.connection_pool
            client.connection_pool = redis.ConnectionPool(
                host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1
            )
            working.disconnect()

    return Cuttable, cut
