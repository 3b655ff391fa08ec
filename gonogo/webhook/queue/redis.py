"""The networked queue: a Redis Stream with one consumer group, shared by every serve and worker.

`XREADGROUP` hands an entry to one consumer and keeps it pending until `XACK`; entries of a killed
consumer are taken over with `XAUTOCLAIM` once idle longer than the lease: at-least-once. A keeper
thread renews the leases (entries and ticket locks) of what this process holds every third of a
lease. Submitting is one Lua script (`SET seen NX PX` then `XADD`), atomic across instances.
Settled entries are deleted, so the stream's length is the work outstanding. Durability is
Redis's own: run it with `appendonly yes`. All keys share one hash tag (Redis Cluster).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.lock import Lock
from redis.retry import Retry

from gonogo.core.errors import ConfigurationError
from gonogo.redaction import remember_url_password
from gonogo.webhook.queue.base import Claimed, DeadLetter, Job, QueueBase, QueueUnavailable
from gonogo.webhook.settings import QueueSettings

log = logging.getLogger(__name__)

_GROUP = "gonogo-workers"
_MAX_BLOCK_SECONDS = 0.5  # XREADGROUP's BLOCK, inside the socket timeout
_DEAD_KEPT = 10_000  # dead letters kept
_SUBMIT = """
if ARGV[3] == '1' and not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
return 1
"""


class RedisQueue(QueueBase):
    _storage_errors = redis.RedisError

    def __init__(
        self,
        settings: QueueSettings,
        *,
        reader: bool = False,  # only lists dead letters
        clock: Callable[[], float] = time.time,
        client: type[redis.Redis] = redis.Redis,  # a test passes one it can cut off from Redis
    ) -> None:
        super().__init__(clock)
        url = settings.redis_url.reveal()
        remember_url_password(url)
        # Short timeouts, no retries inside the client: a Redis that never answers costs a delivery
        # its 503 within 2 s; the workers retry on their own terms.
        timeouts = {"socket_connect_timeout": 1.0, "socket_timeout": 1.5, "health_check_interval": 30}
        self._client = client.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 0), **timeouts)
        parsed = self._client.get_connection_kwargs()  # host:port for messages: the URL may hold a password
        self.where = f"{parsed.get('host') or 'localhost'}:{parsed.get('port') or 6379}"
        self._name = f"Redis at {self.where}"
        tag = "{" + settings.redis_prefix + "}"
        self._stream, self._dead, self._seen, self._locks = (
            f"{tag}:{n}" for n in ("jobs", "dead", "seen:", "lock:")
        )
        self._lease, self._dedupe_ms = settings.lease_seconds, int(settings.dedupe_seconds * 1000)
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._submit = self._client.register_script(_SUBMIT)
        self._guard = threading.Lock()
        self._held_entries: set[str] = set()
        self._held_locks: set[Lock] = set()
        self._last_sweep = 0.0
        self._closing = threading.Event()
        self._keeper = threading.Thread(target=self._keep_leases, name="gonogo-lease-keeper", daemon=True)
        try:
            self._client.ping()
            if not reader:
                self._client.xgroup_create(self._stream, _GROUP, id="0", mkstream=True)
        except redis.RedisError as exc:
            if "BUSYGROUP" not in str(exc):  # BUSYGROUP: the group exists already
                raise ConfigurationError(
                    f"cannot use {self._name} ({exc.__class__.__name__}): start it, or fix "
                    "GONOGO_REDIS_URL / [webhook].redis_url"
                ) from None
        if not reader:
            self._keeper.start()

    def submit(self, job: Job, *, dedupe: bool) -> bool:
        keys = [self._seen + job.delivery_id, self._stream]
        with self._storing("store the job"):
            return bool(self._submit(keys=keys, args=[self._dedupe_ms, job.to_json(), int(dedupe)]))

    def _read(self, block: float) -> Claimed | None:
        with self._storing("hand out work"):
            claimed = self._take_over_abandoned()
            if claimed is not None:
                return claimed
            block_ms = max(1, int(min(block, _MAX_BLOCK_SECONDS) * 1000))
            reply: Any = self._client.xreadgroup(
                _GROUP, self._consumer, {self._stream: ">"}, count=1, block=block_ms
            )
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                return self._held(entry_id, fields)
        return None

    def _take_over_abandoned(self) -> Claimed | None:
        """An entry another consumer left idle past the lease; sweeps every quarter lease while
        nothing is found, at once again after a find (a killed consumer's backlog drains fast)."""
        now = time.monotonic()
        if now - self._last_sweep < self._lease / 4:
            return None
        reply: Any = self._client.xautoclaim(
            self._stream, _GROUP, self._consumer, min_idle_time=int(self._lease * 1000), count=1
        )
        for entry_id, fields in reply[1]:  # XAUTOCLAIM answers [next id, entries(, deleted ids)]
            if fields:
                return self._held(entry_id, fields)
            self._client.xack(self._stream, _GROUP, entry_id)  # deleted meanwhile
        self._last_sweep = now
        return None

    def complete(self, claimed: Claimed) -> None:
        self._settle(claimed, "acknowledge the job")

    def dead_letter(self, claimed: Claimed, *, reason: str, attempts: int) -> None:
        record: dict[Any, Any] = DeadLetter(claimed.job, reason, attempts, failed_at=time.time()).record()
        self._settle(claimed, "dead-letter the job", lambda p: p.xadd(self._dead, record, maxlen=_DEAD_KEPT))

    def release(self, claimed: Claimed) -> None:
        """Mark the entry long idle, so that the next sweep of any consumer takes it at once."""
        self._forget(claimed.receipt)
        idle, entry = int(self._lease * 10_000), claimed.receipt
        try:
            self._client.xclaim(self._stream, _GROUP, self._consumer, 0, [entry], idle=idle, justid=True)
        except redis.RedisError:
            log.warning("could not hand back entry %s; it comes free after its lease", claimed.receipt)

    def retry_later(self, claimed: Claimed, job: Job) -> None:
        self._settle(claimed, "store the job's retry", lambda p: p.xadd(self._stream, {"job": job.to_json()}))

    def _settle(self, claimed: Claimed, what: str, also: Callable[[Pipeline], Any] | None = None) -> None:
        """Acknowledge and delete the entry, with `also`'s command, in one transaction."""
        try:
            with self._storing(what), self._client.pipeline(transaction=True) as pipe:
                if also is not None:
                    also(pipe)
                pipe.xack(self._stream, _GROUP, claimed.receipt)
                pipe.xdel(self._stream, claimed.receipt)
                pipe.execute()
        finally:
            self._forget(claimed.receipt)

    @contextmanager
    def ticket_lock(self, names: tuple[str, ...]) -> Iterator[None]:
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
            raise QueueUnavailable(f"{self._name} failed while locking a ticket ({exc})") from exc
        finally:
            for lock in reversed(held):
                with self._guard:
                    self._held_locks.discard(lock)
                try:
                    lock.release()
                except redis.RedisError:  # LockError included
                    log.warning("a ticket lock had expired before its check finished")

    def dead_letters(self) -> list[DeadLetter]:
        entries: Any = self._client.xrange(self._dead, "-", "+")
        return [DeadLetter.from_record(fields) for _entry_id, fields in entries]

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
        if self._keeper.is_alive():
            self._keeper.join(timeout=5)
        self._client.close()

    def _held(self, entry_id: str, fields: dict[str, str]) -> Claimed:
        with self._guard:
            self._held_entries.add(entry_id)
        return Claimed(Job.from_json(fields["job"]), entry_id)

    def _forget(self, entry_id: str) -> None:
        with self._guard:
            self._held_entries.discard(entry_id)

    def _keep_leases(self) -> None:
        while not self._closing.wait(self._lease / 3):
            with self._guard:
                entries: list[Any] = list(self._held_entries)
                locks = list(self._held_locks)
            try:
                if entries:
                    self._client.xclaim(self._stream, _GROUP, self._consumer, 0, entries, justid=True)
                for lock in locks:
                    lock.reacquire()
            except redis.exceptions.LockError:
                log.warning("a ticket lock expired while its check was running")
            except redis.RedisError as exc:
                log.warning("could not renew leases on %s (%s)", self._name, exc.__class__.__name__)
