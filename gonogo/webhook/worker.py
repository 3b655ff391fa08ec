"""Worker threads: take a job, lock its ticket, run the check, retry on Jira trouble, acknowledge.

A job is acknowledged only after its check has posted the comment or it has been dead-lettered,
so whatever happens in between (a crash, kill -9, a deploy) leads to the job running again, never
to it vanishing. Jira trouble that waiting can cure (unreachable, 5xx, 429 beyond the gateway's
own retries) sends the job back to the queue with a not-before time (a doubling back-off, never
shorter than Jira's Retry-After): no worker sleeps through a back-off, so one ticket's trouble never
holds every worker. Anything else (a missing ticket, refused permissions, a configuration problem,
a bug) cannot be cured by waiting: it is dead-lettered at once, with the reason, where
`gonogo dead-letters` shows it. The queue writes that settle a job are retried until they succeed.

A worker thread never dies of an error. Whatever else goes wrong (the queue's disk is full, Redis
drops the connection, a bug outside the check) is logged as one line, the job is handed back to run
again, and the thread backs off (doubling, capped) before taking work again: a dead thread would
leave the service answering 200 and `/healthz` ok while no check ever runs again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from gonogo.core.errors import GonogoError, JiraError
from gonogo.redaction import redact
from gonogo.webhook.logs import log_delivery
from gonogo.webhook.metrics import WorkerMetrics
from gonogo.webhook.queue import Claimed, Job, QueueUnavailable, WorkQueue
from gonogo.webhook.settings import RetryPolicy

log = logging.getLogger(__name__)

# Pauses after a queue failure or an internal error: from the poll interval, doubling, to this cap.
# Bounded, so a worker is back within half a minute of the disk or Redis recovering.
TROUBLE_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Checked:
    verdict: str
    action: str  # created / updated / recreated / unchanged
    comment_id: str
    key: str = ""  # the key of the ticket Jira returned (a delivery may name another)
    deleted: tuple[str, ...] = ()  # duplicate gonogo comments the check deleted


@dataclass(frozen=True)
class NotAProposal:
    """The fetched ticket is not a proposal (project or issue type outside the filters): no comment."""

    reason: str


CheckRunner = Callable[[Job], Checked | NotAProposal]
_Report = Callable[[], None]  # what to log and count once a job has been acknowledged


class Workers:
    def __init__(
        self,
        *,
        queue: WorkQueue,
        run_check: CheckRunner,
        count: int,
        retry: RetryPolicy,
        metrics: WorkerMetrics,
        poll_seconds: float = 1.0,
        trouble_max_seconds: float = TROUBLE_MAX_SECONDS,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`sleep` replaces the interruptible waits (back-offs) in tests; by default a wait ends at `stop`.
        `clock` times the check each worker is busy with (`stuck`)."""
        self._queue = queue
        self._run_check = run_check
        self._count = count
        self._retry = retry
        self._metrics = metrics
        self._poll = poll_seconds
        self._trouble = RetryPolicy(initial_seconds=poll_seconds, max_seconds=trouble_max_seconds)
        self._sleep = sleep
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clock = clock
        self._busy_since: dict[int, float] = {}  # thread id → when its current check started

    def start(self) -> None:
        for number in range(self._count):
            thread = threading.Thread(target=self._loop, name=f"gonogo-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float) -> None:
        """Stop taking work; a check in progress may finish within `timeout`, else it runs again later."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def stuck(self, after_seconds: float) -> int:
        """How many workers have been on their current check for longer than `after_seconds`.

        Every Jira request ends by its deadline, so a check cannot legitimately run for ever; one
        that does holds a worker that no other ticket gets (`/healthz` says so).
        """
        now = self._clock()
        return sum(1 for started in list(self._busy_since.values()) if now - started > after_seconds)

    def alive(self) -> bool:
        """False once a started worker thread has ended: `/healthz` must not say ok with nobody working."""
        return all(thread.is_alive() for thread in self._threads)

    def _loop(self) -> None:
        """Take jobs until stopped; survive anything a job or the queue raises (see the module doc)."""
        troubles = 0
        while not self._stopping.is_set():
            claimed: Claimed | None = None
            try:
                claimed = self._queue.claim(self._poll)
                if claimed is not None:
                    self.process(claimed)
            except Exception as exc:
                troubles = min(troubles + 1, 32)  # the delay is capped long before; 2**n must stay a float
                delay = self._trouble.delay(troubles)
                self._log_trouble(exc, claimed, delay)
                self._wait(delay)
                continue
            troubles = 0

    def process(self, claimed: Claimed) -> None:
        """Check one job under its ticket lock; then acknowledge it, or store it for a later retry.

        If anything fails before the job is settled (completed, dead-lettered, stored for a retry),
        the job is handed back so that it runs again, and the error is raised for the caller to log.
        """
        report: _Report | None = None
        # In progress until its delivery line is logged: a scrape that shows an empty queue and
        # nothing in progress has every settled job's line and counts (the job leaves the queue first).
        with self._metrics.in_progress.track_inprogress():
            try:
                with self._queue.ticket_lock(claimed.job.lock_names()):
                    report = self._settle(claimed)
            except BaseException:
                if report is None:
                    self._hand_back(claimed)
                raise
            report()

    def _settle(self, claimed: Claimed) -> _Report:
        """Run the check once and settle the job; return what to log about it.

        Trouble that waiting can cure (a Jira outage, a rate limit) sends the job back to the queue
        with a not-before time, so no worker sleeps through a back-off while other tickets wait.
        Anything else is dead-lettered at once, with the reason.
        """
        job = claimed.job
        attempts = job.attempts + 1
        error, outcome = self._attempt(job)
        if isinstance(outcome, NotAProposal):
            self._store(lambda: self._queue.complete(claimed), claimed, "acknowledge the job")
            return partial(self._ignored, job, outcome, attempts)
        if outcome is not None:
            self._store(lambda: self._queue.complete(claimed), claimed, "acknowledge the job")
            return partial(self._posted, job, outcome, attempts)
        assert error is not None
        if isinstance(error, JiraError) and error.retryable and attempts < self._retry.max_attempts:
            # Never sooner than Jira asked (Retry-After), never sooner than the back-off.
            delay = max(self._retry.delay(attempts), error.retry_after or 0.0)
            later = job.later(attempts=attempts, not_before=time.time() + delay)
            self._store(lambda: self._queue.retry_later(claimed, later), claimed, "store the job's retry")
            return partial(self._retrying, job, error, attempts, delay)
        reason = redact(
            str(error)
            if isinstance(error, GonogoError)
            else f"internal error ({error.__class__.__name__}); please report it"
        )
        self._store(
            lambda: self._queue.dead_letter(claimed, reason=reason, attempts=attempts),
            claimed,
            "dead-letter the job",
        )
        return partial(self._dead_lettered, job, reason, attempts)

    def _attempt(self, job: Job) -> tuple[Exception | None, Checked | NotAProposal | None]:
        started = time.perf_counter()
        self._busy_since[threading.get_ident()] = self._clock()
        try:
            return None, self._run_check(job)
        except GonogoError as error:
            return error, None
        except Exception as error:  # a bug: keep the service alive, dead-letter the job, say so
            log.exception("internal error while checking", extra={"delivery": job.delivery_id})
            return error, None
        finally:
            del self._busy_since[threading.get_ident()]
            self._metrics.check_seconds.observe(time.perf_counter() - started)

    def _wait(self, seconds: float) -> bool:
        """Pause for `seconds`, cut short by `stop`; True when the workers are stopping."""
        if self._sleep is None:
            return self._stopping.wait(seconds)
        self._sleep(seconds)
        return self._stopping.is_set()

    def _hand_back(self, claimed: Claimed) -> None:
        """Give an unfinished job back, retrying until the queue takes it (or the service stops)."""
        self._store(lambda: self._queue.release(claimed), claimed, "hand the job back", must=False)

    def _store(self, write: Callable[[], None], claimed: Claimed, what: str, *, must: bool = True) -> None:
        """Retry a queue write that settles a job until it succeeds, with the trouble back-off.

        A full disk or a Redis blip must not leave a job stuck as "in progress" until a restart:
        once the queue can store again, the write goes through. If the service stops first, the
        job is still in the queue and runs again after the restart (or its lease); with `must`,
        that is raised as QueueUnavailable so nothing is reported as done.
        """
        troubles = 0
        while True:
            try:
                write()
                return
            except Exception as exc:
                troubles = min(troubles + 1, 32)
                delay = self._trouble.delay(troubles)
                self._metrics.worker_errors.labels("store").inc()
                log.warning(
                    "could not %s, retrying",
                    what,
                    extra={
                        "delivery": claimed.job.delivery_id,
                        "ticket": claimed.job.key,
                        "error": exc.__class__.__name__,
                        "reason": str(exc) if isinstance(exc, QueueUnavailable) else "internal error",
                        "retry_in_s": delay,
                    },
                )
                if self._wait(delay):
                    if must:
                        raise QueueUnavailable(f"stopped before the queue could {what}") from None
                    return

    def _log_trouble(self, exc: Exception, claimed: Claimed | None, delay: float) -> None:
        """One line per failure, without a traceback: a traceback may quote ticket data or a URL."""
        stage = "claim" if claimed is None else "process"
        self._metrics.worker_errors.labels(stage).inc()
        reason = str(exc) if isinstance(exc, QueueUnavailable) else "internal error; please report it"
        log.error(
            "worker error, backing off",
            extra={
                "worker": threading.current_thread().name,
                "stage": stage,
                "delivery": claimed.job.delivery_id if claimed else None,
                "ticket": claimed.job.key if claimed else None,
                "error": exc.__class__.__name__,
                "reason": reason,
                "retry_in_s": delay,
            },
        )

    def _posted(self, job: Job, outcome: Checked, attempts: int) -> None:
        # "unchanged": the comment would have come out identical and no duplicate was deleted, so
        # nothing was written to Jira. A deletion is a write: the line then says "posted" and names it.
        said = "unchanged" if outcome.action == "unchanged" and not outcome.deleted else "posted"
        self._metrics.checks.labels(said).inc()
        self._metrics.verdicts.labels(outcome.verdict).inc()
        self._metrics.time_to_comment_seconds.observe(max(0.0, time.time() - job.received_at))
        log_delivery(
            delivery=job.delivery_id,
            ticket=outcome.key or job.key,
            event=job.event,
            outcome=said,
            verdict=outcome.verdict,
            comment=outcome.comment_id,
            action=outcome.action,
            **({"deleted": list(outcome.deleted)} if outcome.deleted else {}),
            attempts=attempts,
            latency_ms=_since(job.received_at),
        )

    def _ignored(self, job: Job, outcome: NotAProposal, attempts: int) -> None:
        self._metrics.checks.labels("ignored").inc()
        log_delivery(
            delivery=job.delivery_id,
            ticket=job.key,
            event=job.event,
            outcome="ignored",
            reason=outcome.reason,
            attempts=attempts,
            latency_ms=_since(job.received_at),
        )

    def _retrying(self, job: Job, error: JiraError, attempts: int, delay: float) -> None:
        self._metrics.checks.labels("retry").inc()
        log.info(
            "check failed, retrying",
            extra={
                "delivery": job.delivery_id,
                "ticket": job.key,
                "attempt": attempts,
                "retry_in_s": round(delay, 3),
                "reason": redact(str(error)),
            },
        )

    def _dead_lettered(self, job: Job, reason: str, attempts: int) -> None:
        self._metrics.checks.labels("dead_letter").inc()
        log_delivery(
            delivery=job.delivery_id,
            ticket=job.key,
            event=job.event,
            outcome="dead_letter",
            attempts=attempts,
            reason=reason,
            latency_ms=_since(job.received_at),
        )


def _since(unix_time: float) -> float:
    """Milliseconds from `unix_time` to now: a job's age, across restarts of the service."""
    return round(max(0.0, time.time() - unix_time) * 1000, 1)
