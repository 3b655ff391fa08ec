"""The networked queue: a Redis Stream with a consumer group, shared by several `gonogo serve`.

Why Streams (through redis-py) rather than a job library on Redis: a consumer group gives exactly
the acknowledgement model the service needs. `XREADGROUP` hands an entry to one consumer and keeps
it in the group's pending list until `XACK`; an instance killed mid-check leaves its entries
pending, and any other instance takes them over with `XAUTOCLAIM` once they have been idle longer
than the lease: at-least-once, nothing lost. (huey pops a job before running it, which is
at-most-once; rq and dramatiq need their own worker processes and have no embedded twin.)

- Submitting is one Lua script: `SET seen:<delivery> NX PX <window>` and, only if that succeeded,
  `XADD`. Redis runs it atomically, so concurrent duplicates across instances enqueue one job.
- Per-ticket locks are redis-py `Lock`s (a token under `SET NX PX`, released by a compare-and-delete
  script) with a lease; a keeper thread renews the leases of held locks and resets the idle time of
  held entries (`XCLAIM ... JUSTID`) every third of the lease, so slow checks are not taken over
  while their instance lives, and a dead instance's locks and entries come free after one lease.
- Acknowledged entries are deleted, so the stream's length is the work outstanding; dead letters
  go to a second stream in the same transaction as the `XACK`.

Durability is Redis's: configure it with AOF (`appendonly yes`) if a Redis restart must not lose
accepted deliveries. All keys share one hash tag, so the script also works on Redis Cluster.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.lock import Lock
from redis.retry import Retry

from gonogo.core.errors import ConfigurationError
from gonogo.redaction import REDACTOR
from gonogo.webhook.queue import Backoffs, Claimed, DeadLetter, Job, QueueUnavailable
from gonogo.webhook.settings import QueueSettings

log = logging.getLogger(__name__)

_GROUP = "gonogo-workers"
CONNECT_TIMEOUT_SECONDS = 1.0
SOCKET_TIMEOUT_SECONDS = 1.5
_MAX_BLOCK_SECONDS = 0.5  # XREADGROUP's BLOCK, well inside the socket timeout
_DEAD_LETTERS_KEPT = 10_000

# KEYS[1] seen marker, KEYS[2] stream; ARGV[1] dedupe window (ms), ARGV[2] job JSON, ARGV[3] "1" to dedupe.
_SUBMIT = """
if ARGV[3] == '1' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
    return 0
  end
end
redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
return 1
"""


def describe(url: str) -> str:
    """host:port of a Redis URL, for messages: the URL itself may carry a password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


class RedisQueue:
    """`WorkQueue` on Redis. `reader=True` only lists dead letters."""

    def __init__(
        self,
        settings: QueueSettings,
        *,
        reader: bool = False,
        clock: Callable[[], float] = time.time,
        client: type[redis.Redis] = redis.Redis,
    ) -> None:
        """`clock` says when a job waiting for its back-off is due (a test passes a fake one);
        `client` is redis-py's client class (a test passes a subclass it can cut off from Redis)."""
        url = settings.redis_url.reveal()
        self._where = describe(url)
        REDACTOR.remember_url_password(url)
        # Short timeouts and no retries inside the client: a Redis that accepts connections but
        # never answers must cost a delivery its 503 (and /healthz its answer) within 2 s; the
        # workers retry on their own terms. Blocking reads stay below the socket timeout.
        self._client = client.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        self._backoffs = Backoffs(clock)
        tag = "{" + settings.redis_prefix + "}"
        self._stream = f"{tag}:jobs"
        self._dead = f"{tag}:dead"
        self._seen = f"{tag}:seen:"
        self._locks = f"{tag}:lock:"
        self._lease = settings.lease_seconds
        self._dedupe_ms = int(settings.dedupe_seconds * 1000)
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._submit = self._client.register_script(_SUBMIT)
        self._guard = threading.Lock()
        self._held_entries: set[str] = set()
        self._held_locks: set[Lock] = set()
        self._last_sweep = 0.0
        self._closing = threading.Event()
        self._keeper: threading.Thread | None = None
        try:
            self._client.ping()
            if not reader:
                self._create_group()
        except redis.RedisError as exc:
            raise ConfigurationError(
                f"cannot use Redis at {self._where} ({exc.__class__.__name__}): start it, or fix "
                "GONOGO_REDIS_URL / [webhook].redis_url"
            ) from None
        if not reader:
            self._keeper = threading.Thread(target=self._keep_leases, name="gonogo-lease-keeper", daemon=True)
            self._keeper.start()

    def _create_group(self) -> None:
        try:
            self._client.xgroup_create(self._stream, _GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # -- WorkQueue ------------------------------------------------------------------------

    def submit(self, job: Job, *, dedupe: bool) -> bool:
        try:
            stored = self._submit(
                keys=[self._seen + job.delivery_id, self._stream],
                args=[self._dedupe_ms, job.to_json(), "1" if dedupe else "0"],
            )
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis at {self._where} could not store the job ({exc})") from exc
        return bool(stored)

    def nudge(self) -> None:
        """Nothing to do: a blocked `XREADGROUP` wakes when any process adds to the stream."""

    def submit_many(self, jobs: Sequence[tuple[Job, bool]]) -> list[bool]:
        """One script call per job: Redis answers in microseconds, there is no fsync to share."""
        return [self.submit(job, dedupe=dedupe) for job, dedupe in jobs]

    def claim(self, timeout: float) -> Claimed | None:
        """The next entry; one waiting for its back-off only once it is due (see `Backoffs`).

        Reads block in slices of at most half a second, inside the socket timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            due = self._backoffs.due()
            if due is not None:
                return due
            left = deadline - time.monotonic()
            claimed = self._read(self._backoffs.seconds_to_next(min(max(0.0, left), _MAX_BLOCK_SECONDS)))
            if claimed is not None and not self._backoffs.not_yet_due(claimed):
                return claimed
            if time.monotonic() >= deadline:
                return self._backoffs.due()

    def _read(self, block: float) -> Claimed | None:
        try:
            claimed = self._take_over_abandoned()
            if claimed is not None:
                return claimed
            reply: Any = self._client.xreadgroup(
                _GROUP, self._consumer, {self._stream: ">"}, count=1, block=max(1, int(block * 1000))
            )
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis at {self._where} could not hand out work ({exc})") from exc
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                return self._held(entry_id, fields)
        return None

    def complete(self, claimed: Claimed) -> None:
        self._settle(claimed, "acknowledge the job")

    def dead_letter(self, claimed: Claimed, *, reason: str, attempts: int) -> None:
        record: dict[Any, Any] = {
            "job": claimed.job.to_json(),
            "reason": reason,
            "attempts": attempts,
            "at": time.time(),
        }
        self._settle(
            claimed,
            "dead-letter the job",
            lambda pipe: pipe.xadd(self._dead, record, maxlen=_DEAD_LETTERS_KEPT, approximate=True),
        )

    def release(self, claimed: Claimed) -> None:
        """Mark the entry long idle, so the next sweep of any instance takes it at once."""
        self._forget(claimed.receipt)
        try:
            self._client.xclaim(
                self._stream,
                _GROUP,
                self._consumer,
                0,
                [claimed.receipt],
                idle=int(self._lease * 1000) * 10,
                justid=True,
            )
        except redis.RedisError:
            log.warning("could not hand back entry %s; it comes free after its lease", claimed.receipt)

    def retry_later(self, claimed: Claimed, job: Job) -> None:
        """Replace the entry by one carrying `job`, in one transaction; whoever reads it holds it
        (pending, its lease renewed) until it is due. A dead instance's waiting entries are taken
        over after their lease, like any other."""
        self._settle(
            claimed, "store the job's retry", lambda pipe: pipe.xadd(self._stream, {"job": job.to_json()})
        )

    def _settle(self, claimed: Claimed, what: str, also: Callable[[Pipeline], Any] | None = None) -> None:
        """Acknowledge and delete the entry, with `also`'s command, in one transaction."""
        try:
            with self._client.pipeline(transaction=True) as pipe:
                if also is not None:
                    also(pipe)
                pipe.xack(self._stream, _GROUP, claimed.receipt)
                pipe.xdel(self._stream, claimed.receipt)
                pipe.execute()
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis at {self._where} could not {what} ({exc})") from exc
        finally:
            self._forget(claimed.receipt)

    def ticket_lock(self, names: tuple[str, ...]) -> AbstractContextManager[None]:
        return self._hold_locks(names)

    @contextmanager
    def _hold_locks(self, names: tuple[str, ...]) -> Iterator[None]:
        held: list[Lock] = []
        try:
            for name in names:
                lock = self._client.lock(
                    self._locks + name, timeout=self._lease, sleep=0.05, thread_local=False
                )
                lock.acquire(blocking=True)
                held.append(lock)
                with self._guard:
                    self._held_locks.add(lock)
            yield
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis at {self._where} failed while locking a ticket ({exc})") from exc
        finally:
            for lock in reversed(held):
                with self._guard:
                    self._held_locks.discard(lock)
                try:
                    lock.release()
                except (redis.exceptions.LockError, redis.RedisError):
                    log.warning("a ticket lock had expired before its check finished")

    def dead_letters(self) -> list[DeadLetter]:
        letters = []
        entries: Any = self._client.xrange(self._dead, "-", "+")
        for _entry_id, fields in entries:
            letters.append(
                DeadLetter(
                    job=Job.from_json(fields["job"]),
                    reason=str(fields.get("reason", "")),
                    attempts=int(fields.get("attempts", 0)),
                    failed_at=float(fields.get("at", 0)),
                )
            )
        return letters

    def depth(self) -> int:
        try:
            return int(self._client.xlen(self._stream))
        except redis.RedisError:
            return -1

    def healthy(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self._closing.set()
        if self._keeper is not None:
            self._keeper.join(timeout=5)
        self._client.close()

    # -- internals ------------------------------------------------------------------------

    def _take_over_abandoned(self) -> Claimed | None:
        """One entry another consumer left pending for longer than a lease, if any.

        Sweeps at most every quarter lease while nothing is found, and straight away again after
        a find, so the backlog of a killed instance drains at full speed.
        """
        now = time.monotonic()
        if now - self._last_sweep < self._lease / 4:
            return None
        reply: Any = self._client.xautoclaim(
            self._stream, _GROUP, self._consumer, min_idle_time=int(self._lease * 1000), count=1
        )
        entries = reply[1] if isinstance(reply, list | tuple) and len(reply) > 1 else []
        for entry_id, fields in entries:
            if fields:
                return self._held(entry_id, fields)
            self._client.xack(self._stream, _GROUP, entry_id)  # deleted meanwhile: nothing to do
        self._last_sweep = now
        return None

    def _held(self, entry_id: str, fields: dict[str, str]) -> Claimed:
        with self._guard:
            self._held_entries.add(entry_id)
        return Claimed(Job.from_json(fields["job"]), entry_id)

    def _forget(self, entry_id: str) -> None:
        with self._guard:
            self._held_entries.discard(entry_id)

    def _keep_leases(self) -> None:
        """Renew what this instance holds, every third of a lease, until closed."""
        while not self._closing.wait(self._lease / 3):
            with self._guard:
                entries: list[str | bytes | int | memoryview[int]] = list(self._held_entries)
                locks = list(self._held_locks)
            try:
                if entries:
                    self._client.xclaim(self._stream, _GROUP, self._consumer, 0, entries, justid=True)
                for lock in locks:
                    try:
                        lock.reacquire()
                    except redis.exceptions.LockError:
                        log.warning("a ticket lock expired while its check was running")
            except redis.RedisError as exc:
                log.warning("could not renew leases on Redis at %s (%s)", self._where, exc.__class__.__name__)
