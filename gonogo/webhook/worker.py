"""Worker threads: take a job, lock its ticket, run the check, retry on Jira trouble, acknowledge.

A job is acknowledged only after its check has posted the comment or it has been dead-lettered,
so whatever happens in between (a crash, kill -9, a deploy) leads to the job running again, never
to it vanishing. Jira failures (`JiraError`: unreachable, 5xx, 429 beyond the gateway's own
retries) are retried with a doubling back-off while the job stays claimed, so a Jira outage holds
at most one job per worker and the rest wait their turn in the queue instead of hammering Jira.
Anything else (a configuration problem, a bug) cannot be cured by waiting: it is dead-lettered at
once, with the reason, where `gonogo dead-letters` shows it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gonogo.errors import GonogoError, JiraError
from gonogo.webhook.logs import log_delivery
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Claimed, Job, QueueUnavailable, WorkQueue
from gonogo.webhook.settings import RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOutcome:
    verdict: str
    action: str  # created / updated / recreated
    comment_id: str


CheckRunner = Callable[[Job], CheckOutcome]


class Workers:
    def __init__(
        self,
        *,
        queue: WorkQueue,
        run_check: CheckRunner,
        count: int,
        retry: RetryPolicy,
        metrics: Metrics,
        poll_seconds: float = 1.0,
    ) -> None:
        self._queue = queue
        self._run_check = run_check
        self._count = count
        self._retry = retry
        self._metrics = metrics
        self._poll = poll_seconds
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

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

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                claimed = self._queue.claim(self._poll)
            except QueueUnavailable as exc:
                log.error("cannot take work from the queue: %s", exc)
                self._stopping.wait(self._poll)
                continue
            if claimed is None:
                continue
            try:
                self.process(claimed)
            except QueueUnavailable as exc:
                log.error("lost the queue during %s (it runs again later): %s", claimed.job.delivery_id, exc)

    def process(self, claimed: Claimed) -> None:
        """Check one job under its ticket lock, retrying Jira failures; then acknowledge it."""
        job = claimed.job
        with self._queue.ticket_lock(job.lock_names()):
            attempts = 0
            while True:
                attempts += 1
                error, outcome = self._attempt(job)
                if outcome is not None:
                    self._queue.complete(claimed)
                    self._posted(job, outcome, attempts)
                    return
                assert error is not None
                if isinstance(error, JiraError) and attempts < self._retry.max_attempts:
                    delay = self._retry.delay(attempts)
                    self._metrics.checks.labels("retry").inc()
                    log.info(
                        "check failed, retrying",
                        extra={
                            "delivery": job.delivery_id,
                            "ticket": job.key,
                            "attempt": attempts,
                            "retry_in_s": delay,
                            "reason": str(error),
                        },
                    )
                    if self._stopping.wait(delay):
                        self._queue.release(claimed)
                        return
                    continue
                reason = (
                    str(error)
                    if isinstance(error, GonogoError)
                    else (f"internal error ({error.__class__.__name__}); please report it")
                )
                self._queue.dead_letter(claimed, reason=reason, attempts=attempts)
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
                return

    def _attempt(self, job: Job) -> tuple[Exception | None, CheckOutcome | None]:
        started = time.perf_counter()
        self._metrics.in_progress.inc()
        try:
            return None, self._run_check(job)
        except GonogoError as error:
            return error, None
        except Exception as error:  # a bug: keep the service alive, dead-letter the job, say so
            log.exception("internal error while checking", extra={"delivery": job.delivery_id})
            return error, None
        finally:
            self._metrics.in_progress.dec()
            self._metrics.check_seconds.observe(time.perf_counter() - started)

    def _posted(self, job: Job, outcome: CheckOutcome, attempts: int) -> None:
        self._metrics.checks.labels("posted").inc()
        self._metrics.verdicts.labels(outcome.verdict).inc()
        self._metrics.time_to_comment_seconds.observe(max(0.0, time.time() - job.received_at))
        log_delivery(
            delivery=job.delivery_id,
            ticket=job.key,
            event=job.event,
            outcome="posted",
            verdict=outcome.verdict,
            comment=outcome.comment_id,
            action=outcome.action,
            attempts=attempts,
            latency_ms=_since(job.received_at),
        )


def _since(unix_time: float) -> float:
    """Milliseconds from `unix_time` to now: a job's age, across restarts of the service."""
    return round(max(0.0, time.time() - unix_time) * 1000, 1)
