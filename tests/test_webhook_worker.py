"""Workers: retry Jira trouble with back-off, dead-letter what waiting cannot cure, never overlap
checks of one ticket, and acknowledge only when the check is over."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from broken_storage import Disk, storage_on
from webhook_helpers import Metrics, wait_until

from gonogo.core.errors import RETRY_AFTER_CEILING_SECONDS, ConfigurationError, JiraError
from gonogo.sources.config import JiraSettings
from gonogo.webhook.queue import Claimed, Job, WorkQueue
from gonogo.webhook.queue.local import LocalQueue, read_dead_letters
from gonogo.webhook.service import stuck_after_seconds
from gonogo.webhook.settings import QueueSettings, RetryPolicy
from gonogo.webhook.worker import Checked, Workers

FAST = RetryPolicy(max_attempts=3, initial_seconds=0.01, max_seconds=0.02)
POSTED = Checked(verdict="go", action="created", comment_id="10000")


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[LocalQueue]:
    opened = LocalQueue(QueueSettings(kind="local", path=tmp_path / "queue"))
    yield opened
    opened.close()


def job(key: str = "BID-1", delivery: str = "d-1") -> Job:
    return Job(delivery, key, None, "jira:issue_created", time.time())


class Script:
    """A check runner that plays back outcomes (an exception is raised) and records calls."""

    def __init__(self, *outcomes: Checked | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[str] = []

    def __call__(self, job: Job) -> Checked:
        self.calls.append(job.key)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def run_one(queue: LocalQueue, runner: Script, retry: RetryPolicy = FAST) -> Metrics:
    """Submit one job and process it, claim after claim, until it is settled (the queue is empty)."""
    metrics = Metrics()
    queue.submit(job(), dedupe=True)
    workers = Workers(queue=queue, run_check=runner, count=1, retry=retry, metrics=metrics)
    while queue.depth():
        claimed = queue.claim(1)
        assert claimed is not None
        workers.process(claimed)
    return metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def outage(retry_after: float | None = None) -> JiraError:
    return JiraError("Jira failed with 503", retryable=True, retry_after=retry_after)


def test_jira_outages_are_retried_until_the_comment_is_posted(queue: LocalQueue) -> None:
    runner = Script(outage(), outage(), POSTED)
    metrics = run_one(queue, runner)
    assert runner.calls == ["BID-1"] * 3
    assert sample(metrics, "gonogo_webhook_checks_total", outcome="retry") == 2
    assert sample(metrics, "gonogo_webhook_verdicts_total", verdict="go") == 1
    assert queue.depth() == 0
    assert read_dead_letters(queue.folder) == []


def test_an_outage_that_lasts_ends_as_a_dead_letter_after_the_last_attempt(queue: LocalQueue) -> None:
    metrics = run_one(queue, Script(JiraError("cannot reach Jira", retryable=True)))
    (letter,) = read_dead_letters(queue.folder)
    assert (letter.reason, letter.attempts) == ("cannot reach Jira", 3)
    assert sample(metrics, "gonogo_webhook_checks_total", outcome="dead_letter") == 1


@pytest.mark.parametrize("asked", [float("inf"), 1e9, float("nan"), -5.0])
def test_any_retry_after_still_ends_in_a_retry_or_a_dead_letter(tmp_path: Path, asked: float) -> None:
    """Review 2, finding 3: an infinite or huge Retry-After parked the job for ever.

    The queue's clock runs a day and a minute ahead, so any bounded back-off is due at once.
    """
    ahead = RETRY_AFTER_CEILING_SECONDS + 60
    queue = LocalQueue(
        QueueSettings(kind="local", path=tmp_path / "queue"), clock=lambda: time.time() + ahead
    )
    try:
        run_one(queue, Script(outage(retry_after=asked)))
        (letter,) = read_dead_letters(queue.folder)
        assert letter.attempts == FAST.max_attempts
    finally:
        queue.close()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (JiraError("BID-1 does not exist or this account cannot see it (404)"), "BID-1 does not exist"),
        (JiraError("Jira refused to let this account post (403)"), "Jira refused"),
        (JiraError("Jira rejected the credentials (401)"), "Jira rejected"),
        (JiraError("Jira answered 400 when trying to post"), "Jira answered 400"),
        (ConfigurationError("JIRA_URL is not set"), "JIRA_URL is not set"),
        (KeyError("boom"), "internal error (KeyError); please report it"),
    ],
)
def test_what_waiting_cannot_cure_is_dead_lettered_at_once(
    queue: LocalQueue, error: Exception, reason: str
) -> None:
    """Issue 13, case 2: a deleted ticket (404) used to be retried 8 times, holding a worker."""
    runner = Script(error)
    run_one(queue, runner, retry=RetryPolicy(max_attempts=8, initial_seconds=0.01, max_seconds=0.01))
    assert runner.calls == ["BID-1"]
    (letter,) = read_dead_letters(queue.folder)
    assert letter.reason.startswith(reason)
    assert letter.attempts == 1


def test_every_check_outcome_is_counted_from_zero_before_the_first_check() -> None:
    """Review of issue 23: the check process's counter file then exists before any worker runs;
    made at a first check, a scrape waiting for that check could catch it empty (a failed scrape)."""
    metrics = Metrics()
    outcomes = ("posted", "unchanged", "ignored", "retry", "dead_letter")
    counted = {
        outcome: sample(metrics, "gonogo_webhook_checks_total", outcome=outcome) for outcome in outcomes
    }
    assert counted == dict.fromkeys(outcomes, 0.0)


class SeenAtLogging(logging.Handler):
    """What `/metrics` would show at the moment each delivery line is logged."""

    def __init__(self, queue: LocalQueue, metrics: Metrics) -> None:
        super().__init__()
        self.queue, self.metrics = queue, metrics
        self.seen: list[tuple[int, float | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((self.queue.depth(), sample(self.metrics, "gonogo_webhook_checks_in_progress")))


@pytest.mark.parametrize("outcome", [POSTED, JiraError("Jira refused to let this account post (403)")])
def test_a_job_counts_as_in_progress_until_its_delivery_line_is_logged(
    queue: LocalQueue, outcome: Checked | Exception
) -> None:
    """Review of issue 23: the job left the queue and stopped counting before its line was logged,
    so "queue empty, nothing in progress" (what tests and operators wait on) could miss that line."""
    metrics = Metrics()
    watcher = SeenAtLogging(queue, metrics)
    delivery_log = logging.getLogger("gonogo.webhook.delivery")
    delivery_log.addHandler(watcher)
    level = delivery_log.level
    delivery_log.setLevel(logging.INFO)
    try:
        queue.submit(job(), dedupe=True)
        workers = Workers(queue=queue, run_check=Script(outcome), count=1, retry=FAST, metrics=metrics)
        claimed = queue.claim(1)
        assert claimed is not None
        workers.process(claimed)
    finally:
        delivery_log.removeHandler(watcher)
        delivery_log.setLevel(level)
    assert watcher.seen == [(0, 1.0)]  # settled, so out of the queue; still held until logged
    assert sample(metrics, "gonogo_webhook_checks_in_progress") == 0


def test_a_job_waiting_for_its_back_off_holds_no_worker_and_survives_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13, case 2: with one worker, a ticket in a long back-off must not delay another one."""
    settings = QueueSettings(kind="local", path=tmp_path / "queue")
    queue = LocalQueue(settings)
    posted = threading.Event()

    def check(job: Job) -> Checked:
        if job.key == "BID-1":
            raise outage(retry_after=3600)  # Jira asked for an hour: longer than the policy's back-off
        posted.set()
        return POSTED

    workers = Workers(queue=queue, run_check=check, count=1, retry=FAST, metrics=Metrics())
    queue.submit(job("BID-1", "d-1"), dedupe=True)
    queue.submit(job("BID-2", "d-2"), dedupe=True)
    with caplog.at_level(logging.INFO, logger="gonogo.webhook"):
        workers.start()
        try:
            assert posted.wait(timeout=10), "BID-2 was held up behind BID-1's back-off"
            wait_until(lambda: queue.depth() == 1, timeout=10, what="BID-2 to be acknowledged")
        finally:
            workers.stop(timeout=5)
    (retry,) = [r for r in caplog.records if r.getMessage() == "check failed, retrying"]
    assert retry.__dict__["retry_in_s"] >= 3600  # Jira's Retry-After, not the 0.01 s back-off
    queue.close()
    reopened = LocalQueue(settings)  # a restart: the job is back, and still waits for its time
    try:
        assert reopened.depth() == 1
        assert reopened.claim(0.05) is None
    finally:
        reopened.close()


def test_running_workers_never_check_one_ticket_twice_at_once(queue: LocalQueue) -> None:
    running: dict[str, int] = {}
    overlaps: list[str] = []
    guard = threading.Lock()

    # The first check of BID-1 waits for a second one, which only a broken ticket lock lets run;
    # once the wait times out the barrier is broken and later checks pass at once.
    second_check = threading.Barrier(2)

    def check(job: Job) -> Checked:
        with guard:
            running[job.key] = running.get(job.key, 0) + 1
            if running[job.key] > 1:
                overlaps.append(job.key)
        if job.key == "BID-1":
            with contextlib.suppress(threading.BrokenBarrierError):
                second_check.wait(0.5)  # a check let in by a broken lock arrives well within this
        with guard:
            running[job.key] -= 1
        return POSTED

    for n in range(8):
        queue.submit(job("BID-1", f"same-{n}"), dedupe=True)
        queue.submit(job(f"BID-{n + 2}", f"other-{n}"), dedupe=True)
    workers = Workers(queue=queue, run_check=check, count=4, retry=FAST, metrics=Metrics())
    workers.start()
    try:
        wait_until(lambda: queue.depth() == 0, timeout=10, what="all jobs to finish")
    finally:
        workers.stop(timeout=5)
    assert overlaps == []


class Pauses:
    """The workers' back-off waits, recorded instead of slept."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def trouble_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "worker error, backing off"]


def test_a_queue_failure_while_acknowledging_is_retried_until_the_job_is_acknowledged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13, case 8: `complete` hits a full disk; once space is back the job must not stay stuck."""
    disk = Disk()
    queue = LocalQueue(QueueSettings(kind="local", path=tmp_path / "queue"), storage=storage_on(disk))
    disk.fill(times=3, methods={"ack"})  # the next three acknowledgements meet a full disk
    runner = Script(POSTED)
    pauses = Pauses()
    metrics = Metrics()
    workers = Workers(
        queue=queue, run_check=runner, count=1, retry=FAST, metrics=metrics, poll_seconds=0.05, sleep=pauses
    )
    queue.submit(job("BID-1", "d-1"), dedupe=True)
    queue.submit(job("BID-2", "d-2"), dedupe=True)
    with caplog.at_level(logging.INFO, logger="gonogo.webhook"):
        workers.start()
        try:
            wait_until(lambda: queue.depth() == 0, timeout=10, what="both jobs to finish")
            assert workers.alive()
        finally:
            workers.stop(timeout=5)
            queue.close()
    # BID-1's comment was posted once, and its acknowledgement retried until it went through.
    assert sorted(runner.calls) == ["BID-1", "BID-2"]
    assert pauses.seconds == [0.05, 0.1, 0.2]
    assert sample(metrics, "gonogo_webhook_worker_errors_total", stage="store") == 3
    lines = [r for r in caplog.records if r.getMessage() == "could not acknowledge the job, retrying"]
    assert len(lines) == 3
    assert all(line.exc_info is None for line in lines)  # one line each, no traceback
    assert (lines[0].__dict__["error"], lines[0].__dict__["ticket"]) == ("QueueUnavailable", "BID-1")
    assert "disk is full" in lines[0].__dict__["reason"]


class FlakyQueue:
    """A real queue whose `claim` first raises whatever it is given (a bug, a driver error)."""

    def __init__(self, queue: LocalQueue, *errors: Exception) -> None:
        self.queue = queue
        self.errors = list(errors)

    def claim(self, timeout: float) -> Claimed | None:
        if self.errors:
            raise self.errors.pop(0)
        return self.queue.claim(timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queue, name)


def test_any_error_from_the_queue_is_survived_with_a_bounded_back_off(
    queue: LocalQueue, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyQueue(queue, *[RuntimeError("secret-looking detail")] * 6)
    runner = Script(POSTED)
    pauses = Pauses()
    workers = Workers(
        queue=cast(WorkQueue, flaky),
        run_check=runner,
        count=1,
        retry=FAST,
        metrics=Metrics(),
        poll_seconds=0.05,
        trouble_max_seconds=0.3,
        sleep=pauses,
    )
    queue.submit(job(), dedupe=True)
    with caplog.at_level(logging.INFO, logger="gonogo.webhook"):
        workers.start()
        try:
            wait_until(lambda: queue.depth() == 0, timeout=10, what="the job to run after the errors")
        finally:
            workers.stop(timeout=5)
    assert runner.calls == ["BID-1"]
    assert pauses.seconds == [0.05, 0.1, 0.2, 0.3, 0.3, 0.3]  # doubling from the poll, capped
    lines = trouble_lines(caplog)
    assert len(lines) == 6
    assert {(r.__dict__["stage"], r.__dict__["error"]) for r in lines} == {("claim", "RuntimeError")}
    assert not any("secret-looking" in r.getMessage() + str(r.__dict__.get("reason")) for r in lines)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_worker_makes_the_service_unhealthy_and_its_job_is_not_lost(queue: LocalQueue) -> None:
    def exits(job: Job) -> Checked:
        raise SystemExit(1)  # what no `except Exception` catches: the one way left for a thread to end

    workers = Workers(
        queue=queue,
        run_check=exits,
        count=1,
        retry=FAST,
        metrics=Metrics(),
        poll_seconds=0.05,
    )
    assert workers.health() is None
    queue.submit(job(), dedupe=True)
    workers.start()
    wait_until(lambda: not workers.alive(), timeout=5, what="the worker thread to end")
    assert workers.health() == "worker threads stopped"
    again = queue.claim(1)  # handed back on the way out
    assert again is not None
    assert again.job.key == "BID-1"


def test_a_worker_stuck_on_one_check_past_its_deadlines_makes_healthz_say_so(queue: LocalQueue) -> None:
    now = [0.0]
    started, release = threading.Event(), threading.Event()

    def hangs(job: Job) -> Checked:
        started.set()
        release.wait(30)  # what no deadline bounds: the check never ends by itself
        return POSTED

    after = stuck_after_seconds(
        replace(JiraSettings(), timeout_seconds=5.0, retries=1, max_retry_wait_seconds=10)
    )
    workers = Workers(
        queue=queue,
        run_check=hangs,
        count=1,
        retry=RetryPolicy(),
        metrics=Metrics(),
        stuck_after=after,
        poll_seconds=0.05,
        clock=lambda: now[0],
    )
    try:
        workers.start()
        queue.submit(job(), dedupe=True)
        assert started.wait(10), "the worker did not start the check"
        now[0] += after  # exactly at the limit: slow, not stuck
        assert workers.health() is None
        now[0] += 1.0
        assert workers.health() == "1 worker(s) stuck on one check for longer than its Jira deadlines allow"
        release.set()
        wait_until(lambda: workers.health() is None, timeout=10, what="the check to end")
    finally:
        release.set()
        workers.stop(5)
