"""The embedded queue: persist-queue's `SQLiteAckQueue` in the configured folder, no server needed.

Its rows live from `put` to `ack`: `get` marks a row in progress, and `auto_resume` makes such rows
ready again at start, so a SIGKILL at any moment loses no acknowledged job. Every write is a
committed SQLite transaction (WAL). The JSON serializer keeps the folder data, never code.
Delivery ids for deduplication sit in `deliveries.db` beside it, written after the job: a crash
between the two costs at worst a second job, which the sticky comment absorbs. One process owns a
folder (`flock` on serve.lock), because `auto_resume` would hand out another process's work.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

import persistqueue.serializers.json as json_serializer
from persistqueue import Empty, SQLiteAckQueue
from persistqueue.sqlackqueue import AckStatus

from gonogo.core.errors import ConfigurationError
from gonogo.webhook.queue.base import Backoffs, Claimed, DeadLetter, Job, QueueUnavailable
from gonogo.webhook.settings import QueueSettings

log = logging.getLogger(__name__)

_MIN_FREE_BYTES = 1024 * 1024  # below this a commit may fail half-way: unhealthy
_HEALTH_PROBE = "gonogo-health-probe"
_TIDY_EVERY = 500  # finished jobs between purges, when the queue never runs empty


class KeyedLocks:
    """One lock per name, made on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(name, (threading.Lock(), 0))
            self._locks[name] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[name]
                if users == 1:
                    del self._locks[name]
                else:
                    self._locks[name] = (lock, users - 1)


class LocalQueue:
    """`WorkQueue` on local disk; `reader=True` only lists dead letters beside a running service.

    `storage` is persist-queue's class (a test passes one whose disk fills up)."""

    def __init__(
        self,
        settings: QueueSettings,
        *,
        reader: bool = False,
        clock: Callable[[], float] = time.time,
        storage: type[SQLiteAckQueue] = SQLiteAckQueue,
    ) -> None:
        self._folder = settings.path
        self._dedupe_seconds = settings.dedupe_seconds
        self._clock = clock
        self._backoffs = Backoffs(clock)
        self._locks = KeyedLocks()
        self._guard = threading.Lock()
        self._finished = 0
        self._owner: TextIO | None = None
        self._seen: sqlite3.Connection | None = None
        if reader:
            self._jobs = self._open(storage, auto_resume=False) if self._folder.is_dir() else None
            return
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"[webhook].queue_path {self._folder}: cannot create it ({exc.strerror})"
            ) from None
        self._owner = _own(self._folder / "serve.lock")
        self._jobs = self._open(storage, auto_resume=True)
        self._seen = sqlite3.connect(
            self._folder / "deliveries.db", check_same_thread=False, isolation_level=None, timeout=10
        )
        self._seen.execute("PRAGMA journal_mode=WAL")
        self._seen.execute("PRAGMA synchronous=NORMAL")  # no fsync: a lost id costs a harmless re-check
        self._seen.execute("CREATE TABLE IF NOT EXISTS seen (delivery TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._tidy()

    def _open(self, storage: type[SQLiteAckQueue], *, auto_resume: bool) -> SQLiteAckQueue:
        return storage(
            str(self._folder),
            name="jobs",
            multithreading=True,
            auto_resume=auto_resume,
            serializer=json_serializer,
        )

    def submit(self, job: Job, *, dedupe: bool) -> bool:
        jobs, seen = self._writable()
        try:
            with self._guard:  # "seen? → store → remember" is one step for concurrent copies
                now = self._clock()
                if dedupe:
                    row = seen.execute(
                        "SELECT at FROM seen WHERE delivery = ?", (job.delivery_id,)
                    ).fetchone()
                    if row is not None and float(row[0]) > now - self._dedupe_seconds:
                        return False
                jobs.put({"job": job.to_json()})
                if dedupe:
                    seen.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (job.delivery_id, now))
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"the local queue could not store the job ({exc})") from exc
        return True

    def claim(self, timeout: float) -> Claimed | None:
        jobs, _ = self._writable()
        deadline = time.monotonic() + timeout
        while True:
            due = self._backoffs.due()
            if due is not None:
                return due
            wait = self._backoffs.seconds_to_next(max(0.0, deadline - time.monotonic()))
            try:
                item: dict[str, Any] = jobs.get(block=True, timeout=wait, raw=True)
            except Empty:
                if time.monotonic() >= deadline:
                    return self._backoffs.due()
                continue
            except sqlite3.Error as exc:
                raise QueueUnavailable(f"the local queue could not hand out work ({exc})") from exc
            claimed = Claimed(Job.from_json(item["data"]["job"]), str(item["pqid"]))
            if not self._backoffs.held_if_early(claimed):
                return claimed

    def complete(self, claimed: Claimed) -> None:
        self._write("acknowledge the job", lambda jobs: jobs.ack(id=int(claimed.receipt)))
        self._after_finish()

    def dead_letter(self, claimed: Claimed, *, reason: str, attempts: int) -> None:
        record = {"job": claimed.job.to_json(), "reason": reason, "attempts": attempts, "at": time.time()}

        def write(jobs: SQLiteAckQueue) -> None:
            jobs.update(record, id=int(claimed.receipt))
            jobs.ack_failed(id=int(claimed.receipt))

        self._write("dead-letter the job", write)
        self._after_finish()

    def release(self, claimed: Claimed) -> None:
        self._write("hand the job back", lambda jobs: jobs.nack(id=int(claimed.receipt)))

    def retry_later(self, claimed: Claimed, job: Job) -> None:
        """Rewrite the row (still in progress) and hold it; after a restart it is held again."""
        self._write(
            "store the job's retry", lambda jobs: jobs.update({"job": job.to_json()}, id=int(claimed.receipt))
        )
        self._backoffs.hold(Claimed(job, claimed.receipt))

    @contextmanager
    def ticket_lock(self, names: tuple[str, ...]) -> Iterator[None]:
        with ExitStack() as stack:
            for name in names:
                stack.enter_context(self._locks.hold(name))
            yield

    def dead_letters(self) -> list[DeadLetter]:
        letters = []
        for row in self._jobs.queue() if self._jobs is not None else []:
            if int(row["status"]) == int(AckStatus.ack_failed):
                data = row["data"]
                letters.append(
                    DeadLetter(
                        job=Job.from_json(data["job"]),
                        reason=str(data.get("reason", "")),
                        attempts=int(data.get("attempts", 0)),
                        failed_at=float(data.get("at", row.get("timestamp") or 0)),
                    )
                )
        return letters

    def depth(self) -> int:
        if self._jobs is None:
            return 0
        try:
            return int(self._jobs.qsize()) + int(self._jobs.unack_count())
        except sqlite3.Error:
            return -1

    def healthy(self) -> bool:
        """Free space and a write that succeeds: reading alone says ok while every delivery gets 503."""
        if self._seen is None:
            return self._jobs is not None
        try:
            if shutil.disk_usage(self._folder).free < _MIN_FREE_BYTES:
                return False
            with self._guard:
                self._seen.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (_HEALTH_PROBE, time.time()))
        except (OSError, sqlite3.Error):
            return False
        return True

    def close(self) -> None:
        if self._jobs is not None:
            self._jobs.close()
        if self._seen is not None:
            self._seen.close()
        if self._owner is not None:
            self._owner.close()  # releases the flock

    def _writable(self) -> tuple[SQLiteAckQueue, sqlite3.Connection]:
        if self._jobs is None or self._seen is None:
            raise RuntimeError("this queue was opened for reading only")
        return self._jobs, self._seen

    def _write(self, what: str, write: Callable[[SQLiteAckQueue], object]) -> None:
        jobs, _ = self._writable()
        try:
            write(jobs)
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"the local queue could not {what} ({exc})") from exc

    def _after_finish(self) -> None:
        """Tidy when the queue has run empty (or every few hundred jobs): the job is settled by now."""
        with self._guard:
            self._finished += 1
            due = self._finished >= _TIDY_EVERY
        if due or self.depth() == 0:
            self._tidy()

    def _tidy(self) -> None:
        """Drop finished rows (dead letters stay) and delivery ids past the dedupe window, and give
        the space back to the file system; a failure waits for the next round."""
        jobs, seen = self._writable()
        try:
            with self._guard:
                self._finished = 0
                jobs.clear_acked_data(max_delete=0, keep_latest=0)
                seen.execute("DELETE FROM seen WHERE at < ?", (self._clock() - self._dedupe_seconds,))
            for database in ("data.db", "deliveries.db"):
                _reclaim_space(self._folder / database)
        except sqlite3.Error as exc:
            log.warning("could not purge finished jobs from the local queue (%s)", exc)


def _reclaim_space(database: Path) -> None:
    """Return free pages to the file system: auto_vacuum is switched on once, by a VACUUM."""
    with contextlib.closing(sqlite3.connect(database, timeout=10, isolation_level=None)) as db:
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:  # 2: incremental
            db.execute("PRAGMA auto_vacuum=2")
            db.execute("VACUUM")
        else:  # executescript steps the pragma to its end; execute would free one page
            db.executescript("PRAGMA incremental_vacuum;")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _own(path: Path) -> TextIO:
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigurationError(
            f"the queue folder {path.parent} is in use by another gonogo serve: the local queue "
            'serves one process; run several instances with queue = "redis"'
        ) from None
    return handle
