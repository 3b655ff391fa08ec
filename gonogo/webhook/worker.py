"""Worker threads: take a job, lock its ticket, run the check, then settle the job in the queue.

Settled (completed, dead-lettered or stored for a retry) only after its check, a job survives any
crash. Trouble that waiting can cure (Jira unreachable, 5xx, 429) goes back to the queue with a
not-before time, so no worker sleeps through a back-off; the rest is dead-lettered at once. A worker
thread survives every error: a dead one would leave `/healthz` ok while nothing is checked.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from gonogo.core.errors import GonogoError, JiraError
from gonogo.redaction import redact
from gonogo.webhook.logs import log_delivery
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Claimed, Job, QueueUnavailable, WorkQueue
from gonogo.webhook.settings import RetryPolicy

log = logging.getLogger(__name__)

TROUBLE_MAX_SECONDS = 30.0  # a worker is back within this long of the disk or Redis recovering
QUIET_SECONDS = 0.1  # a claimed check waits until no delivery came for this long ...
GIVE_WAY_SECONDS = 2.0  # ... or this long at most


@dataclass(frozen=True)
class Checked:
    verdict: str
    action: str  # created / updated / recreated / unchanged
    comment_id: str
    key: str = ""  # the ticket Jira returned (a delivery may name another)
    deleted: tuple[str, ...] = ()  # duplicate gonogo comments the check deleted


@dataclass(frozen=True)
class NotAProposal:
    """The fetched ticket is outside the project or issue-type filters: no comment."""

    reason: str


CheckRunner = Callable[[Job], Checked | NotAProposal]


class Workers:
    def __init__(
        self,
        *,
        queue: WorkQueue,
        run_check: CheckRunner,
        count: int,
        retry: RetryPolicy,
        metrics: Metrics,
        stuck_after: float = math.inf,  # seconds on one check past which a worker counts as stuck
        poll_seconds: float = 1.0,
        trouble_max_seconds: float = TROUBLE_MAX_SECONDS,
        sleep: Callable[[float], None] | None = None,  # replaces the back-off waits in tests
        clock: Callable[[], float] = time.monotonic,  # times checks
    ) -> None:
        self._queue, self._run_check, self._count, self._retry = queue, run_check, count, retry
        self.metrics, self._stuck_after, self._poll, self._clock = metrics, stuck_after, poll_seconds, clock
        self._trouble = RetryPolicy(initial_seconds=poll_seconds, max_seconds=trouble_max_seconds)
        self._stopping = threading.Event()
        self._sleep: Callable[[float], object] = sleep or self._stopping.wait  # cut short by `stop`
        self._threads: list[threading.Thread] = []
        self._busy_since: dict[int, float] = {}  # thread id → when its current check started
        self._last_delivery = float("-inf")
        metrics.queue_depth.set_function(lambda: float(queue.depth()))
        metrics.workers_stuck.set_function(lambda: float(self.stuck()))

    def start(self) -> None:
        for number in range(self._count):
            thread = threading.Thread(target=self._loop, name=f"gonogo-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float) -> None:
        """Stop taking work; a check still running after `timeout` runs again after the restart."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def stuck(self) -> int:
        now = self._clock()
        return sum(1 for started in list(self._busy_since.values()) if now - started > self._stuck_after)

    def alive(self) -> bool:
        return all(thread.is_alive() for thread in self._threads)

    def health(self) -> str | None:
        """What `/healthz` reports: None when healthy, else what is wrong."""
        if not self._queue.healthy():
            return "queue unavailable"
        if not self.alive():
            return "worker threads stopped"
        if held := self.stuck():
            return f"{held} worker(s) stuck on one check for longer than its Jira deadlines allow"
        return None

    def delivery_arrived(self) -> None:
        self._last_delivery = time.monotonic()

    def _give_way(self) -> None:
        """A claimed check waits while deliveries keep arriving: the checks' GIL held the event loop
        that acknowledges them (500 deliveries from 20 senders, ack p99 169-338 ms without this,
        41-95 ms with it on a loaded 2-core VM; bench/webhook_burst.py). A comment can wait."""
        waited = 0.0
        while time.monotonic() - self._last_delivery < QUIET_SECONDS and waited < GIVE_WAY_SECONDS:
            if self._wait(QUIET_SECONDS / 2):
                return
            waited += QUIET_SECONDS / 2

    def _loop(self) -> None:
        troubles = 0
        while not self._stopping.is_set():
            claimed: Claimed | None = None
            try:
                claimed = self._queue.claim(self._poll)
                if claimed is not None:
                    self._give_way()
                    self.process(claimed)
                troubles = 0
            except Exception as exc:
                troubles = min(troubles + 1, 32)
                delay = self._trouble.delay(troubles)
                stage = "claim" if claimed is None else "process"
                self.metrics.worker_errors.labels(stage).inc()
                job = claimed.job if claimed else None
                fields: dict[str, Any] = {"worker": threading.current_thread().name, "stage": stage}
                fields |= {"delivery": job.delivery_id if job else None, "ticket": job.key if job else None}
                fields |= {**_error_fields(exc, "internal error; please report it"), "retry_in_s": delay}
                # one line, no traceback: a traceback may quote ticket data or a URL
                log.error("worker error, backing off", extra=fields)
                self._wait(delay)

    def process(self, claimed: Claimed) -> None:
        """Check one job under its ticket lock and settle it; if anything fails before it is
        settled, hand it back and raise. It counts as in progress until its line is logged."""
        with self.metrics.in_progress.track_inprogress():
            try:
                with self._queue.ticket_lock(claimed.job.lock_names()):
                    report = self._settle(claimed)
            except BaseException:
                self._store(partial(self._queue.release, claimed), claimed, "hand the job back", must=False)
                raise
            report()

    def _settle(self, claimed: Claimed) -> Callable[[], None]:
        """Run the check once and settle the job; return what to log once it is settled."""
        job, attempts = claimed.job, claimed.job.attempts + 1
        result = self._attempt(job)
        if not isinstance(result, Exception):
            self._store(partial(self._queue.complete, claimed), claimed, "acknowledge the job")
            return lambda: self._done(job, result, attempts)
        if isinstance(result, JiraError) and result.retryable and attempts < self._retry.max_attempts:
            delay = max(self._retry.delay(attempts), result.retry_after or 0.0)  # never before Jira asked
            later = replace(job, attempts=attempts, not_before=time.time() + delay)
            self._store(partial(self._queue.retry_later, claimed, later), claimed, "store the job's retry")
            return lambda: self._retrying(job, result, attempts, delay)
        internal = f"internal error ({result.__class__.__name__}); please report it"
        reason = redact(str(result) if isinstance(result, GonogoError) else internal)
        write = partial(self._queue.dead_letter, claimed, reason=reason, attempts=attempts)
        self._store(write, claimed, "dead-letter the job")
        return lambda: self._report(job, "dead_letter", attempts=attempts, reason=reason)

    def _attempt(self, job: Job) -> Checked | NotAProposal | Exception:
        self._busy_since[threading.get_ident()] = self._clock()
        try:
            with self.metrics.check_seconds.time():
                return self._run_check(job)
        except GonogoError as error:
            return error
        except Exception as error:  # a bug: keep the service alive, dead-letter the job, say so
            log.exception("internal error while checking", extra={"delivery": job.delivery_id})
            return error
        finally:
            del self._busy_since[threading.get_ident()]

    def _wait(self, seconds: float) -> bool:
        """Pause, cut short by `stop`; True when stopping."""
        self._sleep(seconds)
        return self._stopping.is_set()

    def _store(self, write: Callable[[], None], claimed: Claimed, what: str, *, must: bool = True) -> None:
        """Retry a queue write that settles a job until it succeeds: a full disk or a Redis blip
        must not leave the job "in progress" until a restart. Stopped first, with `must`, it raises
        QueueUnavailable, so nothing is reported as done (the job runs again after the restart)."""
        troubles = 0
        while True:
            try:
                return write()
            except Exception as exc:
                troubles = min(troubles + 1, 32)
                delay = self._trouble.delay(troubles)
                self.metrics.worker_errors.labels("store").inc()
                fields = {"delivery": claimed.job.delivery_id, "ticket": claimed.job.key, "retry_in_s": delay}
                fields |= _error_fields(exc, "internal error")
                log.warning("could not %s, retrying", what, extra=fields)
                if self._wait(delay):
                    if must:
                        raise QueueUnavailable(f"stopped before the queue could {what}") from None
                    return

    def _done(self, job: Job, outcome: Checked | NotAProposal, attempts: int) -> None:
        if isinstance(outcome, NotAProposal):
            return self._report(job, "ignored", reason=outcome.reason, attempts=attempts)
        # "unchanged": nothing written to Jira. A deleted duplicate is a write: "posted", named.
        said = "unchanged" if outcome.action == "unchanged" and not outcome.deleted else "posted"
        self.metrics.verdicts.labels(outcome.verdict).inc()
        self.metrics.time_to_comment_seconds.observe(max(0.0, time.time() - job.received_at))
        deleted = {"deleted": list(outcome.deleted)} if outcome.deleted else {}
        fields = {"verdict": outcome.verdict, "comment": outcome.comment_id, "action": outcome.action}
        self._report(job, said, ticket=outcome.key, **fields, **deleted, attempts=attempts)

    def _report(self, job: Job, outcome: str, *, ticket: str = "", **fields: Any) -> None:
        """Count the check and log the job's delivery line; latency is its age, across restarts."""
        self.metrics.checks.labels(outcome).inc()
        latency_ms = round(max(0.0, time.time() - job.received_at) * 1000, 1)
        line = {"delivery": job.delivery_id, "ticket": ticket or job.key, "event": job.event}
        log_delivery(**line, outcome=outcome, **fields, latency_ms=latency_ms)

    def _retrying(self, job: Job, error: JiraError, attempts: int, delay: float) -> None:
        self.metrics.checks.labels("retry").inc()
        fields = {"delivery": job.delivery_id, "ticket": job.key, "attempt": attempts}
        extra = {**fields, "retry_in_s": round(delay, 3), "reason": redact(str(error))}
        log.info("check failed, retrying", extra=extra)


def _error_fields(exc: Exception, otherwise: str) -> dict[str, str]:
    reason = str(exc) if isinstance(exc, QueueUnavailable) else otherwise
    return {"error": exc.__class__.__name__, "reason": reason}
