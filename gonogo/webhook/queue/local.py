"""The embedded queue: persist-queue's `SQLiteAckQueue` in the configured folder, no server needed.

Its rows live from `put` to `ack`: `get` marks a row in progress, and `auto_resume` makes such rows
ready again at start, so a SIGKILL at any moment loses no acknowledged job. Every write is a
committed SQLite transaction (WAL). The JSON serializer keeps the folder data, never code.
Delivery ids for deduplication sit in `deliveries.db` beside it, written after the job: a crash
between the two costs at worst a second job, which the sticky comment absorbs. One process owns a
folder (`flock` on serve.lock), because `auto_resume` would hand out another process's work.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakValueDictionary

import persistqueue.serializers.json as json_serializer
from persistqueue import Empty, SQLiteAckQueue
from persistqueue.sqlackqueue import AckStatus

from gonogo.core.errors import ConfigurationError
from gonogo.webhook.queue.base import Claimed, DeadLetter, Job, QueueBase
from gonogo.webhook.settings import QueueSettings

log = logging.getLogger(__name__)

_MIN_FREE_BYTES = 1024 * 1024  # below this a commit may fail half-way: unhealthy
_HEALTH_PROBE = "gonogo-health-probe"
_TIDY_EVERY = 500  # jobs between purges, when the queue never runs empty


class LocalQueue(QueueBase):
    _storage_errors, _name = sqlite3.Error, "the local queue"

    def __init__(
        self,
        settings: QueueSettings,
        *,
        clock: Callable[[], float] = time.time,
        storage: type[SQLiteAckQueue] = SQLiteAckQueue,  # a test passes one whose disk fills up
    ) -> None:
        super().__init__(clock)
        self.folder, self._dedupe_seconds = settings.path, settings.dedupe_seconds
        self._locks: WeakValueDictionary[str, threading.Lock] = WeakValueDictionary()  # gone once unused
        self._guard = threading.Lock()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"[webhook].queue_path {self.folder}: cannot create it ({exc.strerror})"
            ) from None
        self._owner = (self.folder / "serve.lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(self._owner.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._owner.close()
            raise ConfigurationError(
                f"the queue folder {self.folder} is in use by another gonogo serve: the local queue "
                'serves one process; run several instances with queue = "redis"'
            ) from None
        self._jobs = _open(self.folder, storage, auto_resume=True)
        seen = self.folder / "deliveries.db"
        self._seen = sqlite3.connect(seen, check_same_thread=False, isolation_level=None, timeout=10)
        self._seen.execute("PRAGMA journal_mode=WAL")
        self._seen.execute("PRAGMA synchronous=NORMAL")  # no fsync: a lost id costs a harmless re-check
        self._seen.execute("CREATE TABLE IF NOT EXISTS seen (delivery TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._tidy()

    def submit(self, job: Job, *, dedupe: bool) -> bool:
        with self._storing("store the job"), self._guard:  # "seen? → store → remember" is one step
            now = self._clock()
            seen = "SELECT 1 FROM seen WHERE delivery = ? AND at > ?"
            if dedupe and self._seen.execute(seen, (job.delivery_id, now - self._dedupe_seconds)).fetchone():
                return False
            self._jobs.put({"job": job.to_json()})
            if dedupe:
                self._seen.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (job.delivery_id, now))
        return True

    def _read(self, block: float) -> Claimed | None:
        try:
            with self._storing("hand out work"):
                item: dict[str, Any] = self._jobs.get(block=True, timeout=block, raw=True)
        except Empty:
            return None
        return Claimed(Job.from_json(item["data"]["job"]), str(item["pqid"]))

    def complete(self, claimed: Claimed) -> None:
        with self._storing("acknowledge the job"):
            self._jobs.ack(id=int(claimed.receipt))
        self._after_finish(claimed)

    def dead_letter(self, claimed: Claimed, *, reason: str, attempts: int) -> None:
        letter = DeadLetter(claimed.job, reason, attempts, failed_at=time.time())
        with self._storing("dead-letter the job"):
            self._jobs.update(letter.record(), id=int(claimed.receipt))
            self._jobs.ack_failed(id=int(claimed.receipt))
        self._after_finish(claimed)

    def release(self, claimed: Claimed) -> None:
        with self._storing("hand the job back"):
            self._jobs.nack(id=int(claimed.receipt))

    def retry_later(self, claimed: Claimed, job: Job) -> None:
        """Rewrite the row (still in progress) and hold it; after a restart it is held again."""
        with self._storing("store the job's retry"):
            self._jobs.update({"job": job.to_json()}, id=int(claimed.receipt))
        self._hold(Claimed(job, claimed.receipt))

    @contextmanager
    def ticket_lock(self, names: tuple[str, ...]) -> Iterator[None]:
        with self._guard:
            locks = [self._locks.setdefault(name, threading.Lock()) for name in names]
        with ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield

    def depth(self) -> int:
        try:
            return int(self._jobs.qsize()) + int(self._jobs.unack_count())
        except sqlite3.Error:
            return -1

    def healthy(self) -> bool:
        """Free space and a write that succeeds: reading alone says ok while every delivery gets 503."""
        try:
            if shutil.disk_usage(self.folder).free < _MIN_FREE_BYTES:
                return False
            with self._guard:
                self._seen.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (_HEALTH_PROBE, time.time()))
        except (OSError, sqlite3.Error):
            return False
        return True

    def close(self) -> None:
        self._jobs.close()
        self._seen.close()
        self._owner.close()  # releases the flock

    def _after_finish(self, claimed: Claimed) -> None:
        """Tidy once the queue has run empty, or at every few hundredth job when it never does."""
        if int(claimed.receipt) % _TIDY_EVERY == 0 or self.depth() == 0:
            self._tidy()

    def _tidy(self) -> None:
        """Drop finished rows (dead letters stay) and delivery ids past the dedupe window, and give
        the space back to the file system; a failure waits for the next round."""
        try:
            with self._guard:
                self._jobs.clear_acked_data(max_delete=0, keep_latest=0)
                self._seen.execute("DELETE FROM seen WHERE at < ?", (self._clock() - self._dedupe_seconds,))
            for database in ("data.db", "deliveries.db"):
                _reclaim_space(self.folder / database)
        except sqlite3.Error as exc:
            log.warning("could not purge finished jobs from the local queue (%s)", exc)


def read_dead_letters(folder: Path) -> list[DeadLetter]:
    """The folder's dead letters, beside the process that owns it: no lock taken, nothing resumed."""
    if not folder.is_dir():
        return []
    with closing(_open(folder, SQLiteAckQueue, auto_resume=False)) as jobs:
        rows = jobs.queue()
    return [DeadLetter.from_record(row["data"]) for row in rows if row["status"] == int(AckStatus.ack_failed)]


def _open(folder: Path, storage: type[SQLiteAckQueue], *, auto_resume: bool) -> SQLiteAckQueue:
    return storage(
        str(folder), name="jobs", multithreading=True, auto_resume=auto_resume, serializer=json_serializer
    )


def _reclaim_space(database: Path) -> None:
    """Return free pages to the file system: auto_vacuum is switched on once, by a VACUUM."""
    with closing(sqlite3.connect(database, timeout=10, isolation_level=None)) as db:
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:  # 2: incremental
            db.execute("PRAGMA auto_vacuum=2")
            db.execute("VACUUM")
        else:  # executescript steps the pragma to its end; execute would free one page
            db.executescript("PRAGMA incremental_vacuum;")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
