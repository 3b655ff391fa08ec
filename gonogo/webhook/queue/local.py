"""The embedded queue: persist-queue's `SQLiteAckQueue` in a folder, no server needed.

Why this library: its ack queue keeps a job's row in SQLite from `put` to `ack`. `get` only marks
the row "unacked" (committed), `ack` marks it done, `ack_failed` keeps it as failed, and on start
`auto_resume` turns every unacked row back into a ready one. So a `kill -9` at any moment loses no
acknowledged job and a job that was in progress runs again: at-least-once. Every write is its own
committed SQLite transaction (WAL), which survives the death of the process. The JSON serializer is
used rather than pickle so the folder's contents are data, never code.

Accepting a delivery is a group commit (issue 14). persist-queue commits every `put` on its own,
with an fsync, and its fsyncs on a busy disk have a long tail (a median of 0.3 ms, but one in ten
took 8 ms when measured), so a burst of deliveries stored one by one queued up behind each other.
So `submit_many` writes a whole batch of accepted deliveries (the webhook's writer thread hands over
everything that arrived meanwhile) into the `inbox` table of `deliveries.db`, together with their
delivery ids for deduplication, in one transaction with full sync: one fsync for the batch, and
"seen? → store → remember" is atomic. Only then is the batch acknowledged. A mover thread then puts
each inbox row into persist-queue and deletes it from the inbox; a job is always durably in one of
the two. Rows still in the inbox at start (a crash) are moved first. A crash between a put and the
delete leaves at worst a second job for the same ticket, which the sticky comment absorbs (and whose
check, finding the verdict unchanged, writes nothing).

Both databases give their space back once a burst has drained. Housekeeping (every 200 finished
jobs, and in the mover thread whenever the queue runs empty) drops finished rows and delivery ids
older than the dedupe window; then SQLite's incremental vacuum returns the freed pages to the file
system and a WAL checkpoint truncates the log. Each database is switched to incremental
auto-vacuum once, by a VACUUM, the first time housekeeping meets it.

One service owns a folder at a time (an exclusive `flock` on serve.lock), because `auto_resume`
would otherwise hand another live process's in-progress jobs out again. Several instances need the
Redis backend. Within a service the folder is split by role (issue 14b): the HTTP process stores
into the inbox, and only the check process (holding checks.lock) touches persist-queue, which is
documented as thread-safe, not as shared between processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any, Literal, TextIO

import persistqueue.serializers.json as json_serializer
from persistqueue import Empty, SQLiteAckQueue
from persistqueue.sqlackqueue import AckStatus

from gonogo.core.errors import ConfigurationError
from gonogo.webhook.queue import Backoffs, Claimed, DeadLetter, Job, QueueUnavailable
from gonogo.webhook.settings import QueueSettings

log = logging.getLogger(__name__)

_QUEUE_NAME = "jobs"
_SEEN_DB = "deliveries.db"
_LOCK_FILE = "serve.lock"
_CHECKS_LOCK_FILE = "checks.lock"  # held by whichever process owns persist-queue
_CHECKS_LOCK_WAIT = 30.0  # seconds to wait for a check process that is still ending
_MIN_FREE_BYTES = 1024 * 1024  # below this a commit may fail half-way: report the queue unhealthy
_HEALTH_PROBE = "gonogo-health-probe"  # the delivery id /healthz writes to prove the queue can store
_HOUSEKEEPING_EVERY = 200  # acks / submits between purges of finished rows and old delivery ids
_INCREMENTAL_VACUUM = 2  # SQLite's `PRAGMA auto_vacuum` value for INCREMENTAL


class KeyedLocks:
    """One `threading.Lock` per name, created on demand and dropped when nobody holds or waits."""

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


Role = Literal["all", "intake", "checks"]


class LocalQueue:
    """`WorkQueue` on local disk. `reader=True` opens it read-only beside a running service.

    `role` splits the queue between the two processes of `gonogo serve` (see
    `gonogo.webhook.checks_process`): "intake" (the HTTP process) only stores accepted deliveries
    in the inbox and answers `depth`/`healthy`; it never writes to persist-queue, whose documented
    guarantees are for threads of one process. "checks" (the check process) owns persist-queue:
    it moves the inbox in, hands out jobs and settles them. SQLite itself serialises the two
    processes' writes to the inbox (WAL, a busy timeout). "all" is both in one process.
    `on_stored` (intake) is called after each commit that stored a job: it wakes the mover over there.
    """

    def __init__(
        self,
        settings: QueueSettings,
        *,
        reader: bool = False,
        role: Role = "all",
        on_stored: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
        storage: type[SQLiteAckQueue] = SQLiteAckQueue,
    ) -> None:
        """`clock` says when a job waiting for its back-off is due (a test passes a fake one);
        `storage` is persist-queue's queue class (a test passes a subclass whose disk fills up)."""
        self._storage = storage
        self._clock = clock
        self._folder = settings.path
        self._dedupe_seconds = settings.dedupe_seconds
        self._role = role
        self._on_stored = on_stored
        self._intake = threading.Lock()
        self._locks = KeyedLocks()
        self._lock_files: list[TextIO] = []
        self._since_housekeeping = 0
        self._backoffs = Backoffs(clock)
        self._mover: threading.Thread | None = None
        self._moving = threading.Condition()
        self._closing = False
        self._tidy_when_idle = False  # the queue ran empty: the mover thread tidies up
        if reader:
            self._queue = self._open_queue(auto_resume=False) if self._folder.is_dir() else None
            self._seen: sqlite3.Connection | None = None
            self._open_jobs = 0
            return
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"[webhook].queue_path {self._folder}: cannot create it ({exc.strerror})"
            ) from None
        try:
            if role != "checks":
                self._lock_files.append(self._take_folder())
            if role != "intake":
                # The check process a killed service left behind may still be ending: wait for it.
                self._lock_files.append(_lock_waiting(self._folder / _CHECKS_LOCK_FILE, _CHECKS_LOCK_WAIT))
        except BaseException:
            self._release_locks()
            raise
        # The intake side only reads persist-queue (depth); the side that checks owns it.
        self._queue = self._open_queue(auto_resume=role != "intake")
        self._seen = sqlite3.connect(
            self._folder / _SEEN_DB, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._seen.execute("PRAGMA journal_mode=WAL")
        # Full sync: the inbox holds acknowledged deliveries; a commit is one fsync of the WAL.
        self._seen.execute("PRAGMA synchronous=FULL")
        self._seen.execute("CREATE TABLE IF NOT EXISTS seen (delivery TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._seen.execute("CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, job TEXT NOT NULL)")
        self._housekeeping()
        self._open_jobs = self._count_open()
        if role != "intake":
            self._mover = threading.Thread(target=self._move_inbox, name="gonogo-queue-mover", daemon=True)
            self._mover.start()

    def _open_queue(self, *, auto_resume: bool) -> SQLiteAckQueue:
        return self._storage(
            str(self._folder),
            name=_QUEUE_NAME,
            multithreading=True,
            auto_resume=auto_resume,
            serializer=json_serializer,
        )

    def _take_folder(self) -> TextIO:
        handle = (self._folder / _LOCK_FILE).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigurationError(
                f"the queue folder {self._folder} is in use by another gonogo serve: the local queue "
                'serves one process; run several instances with queue = "redis"'
            ) from None
        return handle

    # -- WorkQueue ------------------------------------------------------------------------

    def submit(self, job: Job, *, dedupe: bool) -> bool:
        return self.submit_many([(job, dedupe)])[0]

    def submit_many(self, jobs: Sequence[tuple[Job, bool]]) -> list[bool]:
        """Store a batch in one transaction (one fsync); see the module doc. All or nothing."""
        _, seen = self._writable_or_intake()
        now = self._clock()
        stored: list[bool] = []
        try:
            with self._intake:
                seen.execute("BEGIN IMMEDIATE")
                try:
                    accepted: set[str] = set()
                    for job, dedupe in jobs:
                        if dedupe and (
                            job.delivery_id in accepted or self._seen_recently(seen, job.delivery_id, now)
                        ):
                            stored.append(False)
                            continue
                        seen.execute("INSERT INTO inbox (job) VALUES (?)", (job.to_json(),))
                        if dedupe:
                            accepted.add(job.delivery_id)
                            seen.execute(
                                "INSERT OR REPLACE INTO seen (delivery, at) VALUES (?, ?)",
                                (job.delivery_id, now),
                            )
                        stored.append(True)
                    seen.execute("COMMIT")
                except BaseException:
                    seen.execute("ROLLBACK")
                    raise
                self._open_jobs += stored.count(True)
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"the local queue could not store the job ({exc})") from exc
        if self._on_stored is not None and any(stored):
            self._on_stored()
        self.nudge()
        return stored

    def nudge(self) -> None:
        """Something new is in the inbox (perhaps stored by the other process): wake the mover."""
        with self._moving:
            self._moving.notify()

    def claim(self, timeout: float) -> Claimed | None:
        """The next ready job; one waiting for its back-off only once it is due (see `Backoffs`)."""
        queue, _ = self._writable()
        deadline = time.monotonic() + timeout
        while True:
            due = self._backoffs.due()
            if due is not None:
                return due
            wait = self._backoffs.seconds_to_next(max(0.0, deadline - time.monotonic()))
            try:
                item: dict[str, Any] = queue.get(block=True, timeout=wait, raw=True)
            except Empty:
                if time.monotonic() >= deadline:
                    return self._backoffs.due()
                continue
            except sqlite3.Error as exc:
                raise QueueUnavailable(f"the local queue could not hand out work ({exc})") from exc
            claimed = Claimed(Job.from_json(item["data"]["job"]), str(item["pqid"]))
            if not self._backoffs.not_yet_due(claimed):  # after a restart, a job may still be waiting
                return claimed

    def complete(self, claimed: Claimed) -> None:
        queue, _ = self._writable()
        try:
            queue.ack(id=int(claimed.receipt))
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"the local queue could not acknowledge the job ({exc})") from exc
        self._finished()

    def dead_letter(self, claimed: Claimed, *, reason: str, attempts: int) -> None:
        queue, _ = self._writable()
        record = {"job": claimed.job.to_json(), "reason": reason, "attempts": attempts, "at": time.time()}
        try:
            queue.update(record, id=int(claimed.receipt))
            queue.ack_failed(id=int(claimed.receipt))
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"the local queue could not dead-letter the job ({exc})") from exc
        self._finished()

    def release(self, claimed: Claimed) -> None:
        queue, _ = self._writable()
        try:
            queue.nack(id=int(claimed.receipt))
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"the local queue could not hand the job back ({exc})") from exc

    def retry_later(self, claimed: Claimed, job: Job) -> None:
        """Rewrite the row (still claimed, so invisible to `get`) and hold it until it is due.

        Across a restart the row comes back as ready with its `not_before`, and is held again.
        """
        queue, _ = self._writable()
        try:
            queue.update({"job": job.to_json()}, id=int(claimed.receipt))
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"the local queue could not store the job's retry ({exc})") from exc
        self._backoffs.hold(Claimed(job, claimed.receipt))

    def ticket_lock(self, names: tuple[str, ...]) -> AbstractContextManager[None]:
        return self._hold_all(names)

    @contextmanager
    def _hold_all(self, names: tuple[str, ...]) -> Iterator[None]:
        with ExitStack() as stack:
            for name in names:
                stack.enter_context(self._locks.hold(name))
            yield

    def dead_letters(self) -> list[DeadLetter]:
        if self._queue is None:
            return []
        letters = []
        for row in self._queue.queue():
            if _status(row) != int(AckStatus.ack_failed):
                continue
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
        """Jobs accepted and not finished. One process ("all") counts as it goes; the intake side
        counts the rows (inbox and persist-queue), since the jobs are settled by the other process.
        Counting rows, a job being moved (put, its inbox row not yet deleted) counts twice for that
        moment: a gauge may say one more, never one less."""
        if self._role != "intake":
            return self._open_jobs
        try:
            return self._count_open()
        except sqlite3.Error:
            return -1

    def healthy(self) -> bool:
        """Whether the queue can store a job now: free space on its disk, and a write that succeeds.

        Reading alone would say ok while every delivery gets 503 for lack of disk.
        """
        if self._queue is None:
            return False
        if self._seen is None:
            return True  # a reader stores nothing
        try:
            if shutil.disk_usage(self._folder).free < _MIN_FREE_BYTES:
                return False
            with self._intake:
                self._seen.execute(
                    "INSERT OR REPLACE INTO seen (delivery, at) VALUES (?, ?)", (_HEALTH_PROBE, time.time())
                )
        except (OSError, sqlite3.Error):
            return False
        return True

    def close(self) -> None:
        mover = self._mover
        if mover is not None:
            with self._moving:
                self._closing = True
                self._moving.notify()
            mover.join(10)  # what it has not moved stays in the inbox for the next start
        if self._queue is not None:
            self._queue.close()
        if self._seen is not None:
            self._seen.close()
        self._release_locks()

    def _release_locks(self) -> None:
        for handle in self._lock_files:
            handle.close()  # releases the flock
        self._lock_files = []

    # -- internals ------------------------------------------------------------------------

    def _writable_or_intake(self) -> tuple[SQLiteAckQueue, sqlite3.Connection]:
        if self._queue is None or self._seen is None:
            raise RuntimeError("this queue was opened for reading only")
        return self._queue, self._seen

    def _writable(self) -> tuple[SQLiteAckQueue, sqlite3.Connection]:
        """persist-queue for writing: never on the intake side, which another process owns."""
        if self._role == "intake":
            raise RuntimeError("the intake side of the queue only stores deliveries")
        return self._writable_or_intake()

    def _move_inbox(self) -> None:
        """Mover thread: inbox rows into persist-queue, oldest first, until `close`.

        A failure (a full disk) leaves the rows where they are, durable, and is tried again after a
        pause; deliveries keep being accepted into the inbox meanwhile if it has room.
        """
        pause = 0.0
        while True:
            with self._moving:
                if self._closing:
                    return
                if pause:
                    self._moving.wait(pause)
                    if self._closing:
                        return
            try:
                moved = self._move_some()
                pause = 0.0
            except sqlite3.Error as exc:
                log.warning("could not move accepted deliveries into the local queue (%s); retrying", exc)
                moved, pause = 0, 1.0
            if moved or pause:
                continue
            with self._moving:
                tidy, self._tidy_when_idle = self._tidy_when_idle, False
            if tidy:
                self._tidy()
            with self._moving:
                if not self._closing and not self._inbox_waiting() and not self._tidy_when_idle:
                    self._moving.wait(1.0)

    def _move_some(self, limit: int = 256) -> int:
        queue, seen = self._writable()
        with self._intake:
            rows = seen.execute("SELECT id, job FROM inbox ORDER BY id LIMIT ?", (limit,)).fetchall()
        for _, job in rows:
            queue.put({"job": job})
        if rows:
            with self._intake:
                seen.execute("DELETE FROM inbox WHERE id <= ?", (rows[-1][0],))
        return len(rows)

    def _inbox_waiting(self) -> bool:
        _, seen = self._writable()
        with self._intake:
            return seen.execute("SELECT 1 FROM inbox LIMIT 1").fetchone() is not None

    def _count_open(self) -> int:
        """Jobs in the inbox plus persist-queue rows not finished (ready or in progress)."""
        queue, seen = self._writable_or_intake()
        with self._intake:
            (in_inbox,) = seen.execute("SELECT COUNT(*) FROM inbox").fetchone()
        in_queue = sum(1 for row in queue.queue() if _status(row) < int(AckStatus.acked))
        return int(in_inbox) + in_queue

    def _seen_recently(self, seen: sqlite3.Connection, delivery_id: str, now: float) -> bool:
        row = seen.execute("SELECT at FROM seen WHERE delivery = ?", (delivery_id,)).fetchone()
        return row is not None and float(row[0]) > now - self._dedupe_seconds

    def _finished(self) -> None:
        with self._intake:
            self._open_jobs = max(0, self._open_jobs - 1)
            self._since_housekeeping += 1
            due = self._since_housekeeping >= _HOUSEKEEPING_EVERY
            drained = self._open_jobs == 0
        if drained and not due and self._mover is not None:
            # Off the worker's path: its job's report (the delivery line) must not wait for a vacuum.
            with self._moving:
                self._tidy_when_idle = True
                self._moving.notify()
        elif due:
            self._tidy()

    def _tidy(self) -> None:
        # The job itself is acknowledged by now; failing to tidy up must not make that look like a
        # failure (the job would run again). The next round tries again.
        try:
            self._housekeeping()
        except sqlite3.Error as exc:
            log.warning("could not purge finished jobs from the local queue (%s)", exc)

    def _housekeeping(self) -> None:
        """Drop finished rows (dead letters stay) and delivery ids older than the dedupe window,
        and give the freed space back to the file system (see the module)."""
        queue, seen = self._writable_or_intake()
        with self._intake:
            self._since_housekeeping = 0
            if self._role != "intake":  # only the owner writes to persist-queue
                queue.clear_acked_data(max_delete=0, keep_latest=0)
                _reclaim_space(self._folder / queue.db_file_name)
            seen.execute("DELETE FROM seen WHERE at < ?", (self._clock() - self._dedupe_seconds,))
            _reclaim_space(self._folder / _SEEN_DB)


def _reclaim_space(database: Path) -> None:
    """Return a database's free pages to the file system: SQLite keeps them, and its file, otherwise.

    A separate connection, so that persist-queue's own is never touched. `auto_vacuum` can only be
    switched on by a VACUUM (which also compacts); after that an incremental vacuum is cheap.
    Space is a nicety: a database busy elsewhere is left for the next round.
    """
    try:
        with contextlib.closing(sqlite3.connect(database, timeout=10, isolation_level=None)) as db:
            (mode,) = db.execute("PRAGMA auto_vacuum").fetchone()
            if mode != _INCREMENTAL_VACUUM:
                db.execute(f"PRAGMA auto_vacuum={_INCREMENTAL_VACUUM}")
                db.execute("VACUUM")
            else:  # executescript steps the pragma to its end; execute would free a single page
                db.executescript("PRAGMA incremental_vacuum;")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError as exc:
        log.warning("could not give the free space of %s back (%s)", database.name, exc)


def _lock_waiting(path: Path, seconds: float) -> TextIO:
    """An exclusive `flock` on `path`, waiting up to `seconds` for its holder to end."""
    handle = path.open("a+", encoding="utf-8")
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise ConfigurationError(
                    f"the queue folder {path.parent} is still in use by the checks of an earlier "
                    "gonogo serve; stop that process first"
                ) from None
            time.sleep(0.05)


def _status(row: dict[str, Any]) -> int:
    return int(row["status"])
