"""Workers: retry Jira trouble with back-off, dead-letter what waiting cannot cure, never overlap
checks of one ticket, and acknowledge only when the check is over."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from webhook_helpers import wait_until

from gonogo.errors import ConfigurationError, JiraError
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Claimed, Job, WorkQueue
from gonogo.webhook.queue_local import LocalQueue
from gonogo.webhook.service import health_check
from gonogo.webhook.settings import QueueSettings, RetryPolicy
from gonogo.webhook.worker import CheckOutcome, Workers

FAST = RetryPolicy(max_attempts=3, initial_seconds=0.01, max_seconds=0.02)
POSTED = CheckOutcome(verdict="go", action="created", comment_id="10000")


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[LocalQueue]:
    opened = LocalQueue(QueueSettings(kind="local", path=tmp_path / "queue"))
    yield opened
    opened.close()


def job(key: str = "BID-1", delivery: str = "d-1") -> Job:
    return Job(delivery, key, None, "jira:issue_created", time.time())


class Script:
    """A check runner that plays back outcomes (an exception is raised) and records calls."""

    def __init__(self, *outcomes: CheckOutcome | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[str] = []

    def __call__(self, job: Job) -> CheckOutcome:
        self.calls.append(job.key)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def run_one(queue: LocalQueue, runner: Script) -> Metrics:
    metrics = Metrics(queue_depth=queue.depth)
    queue.submit(job(), dedupe=True)
    claimed = queue.claim(1)
    assert claimed is not None
    Workers(queue=queue, run_check=runner, count=1, retry=FAST, metrics=metrics).process(claimed)
    return metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_jira_failures_are_retried_until_the_comment_is_posted(queue: LocalQueue) -> None:
    runner = Script(JiraError("Jira failed with 503"), JiraError("Jira failed with 503"), POSTED)
    metrics = run_one(queue, runner)
    assert runner.calls == ["BID-1"] * 3
    assert sample(metrics, "gonogo_webhook_checks_total", outcome="retry") == 2
    assert sample(metrics, "gonogo_webhook_verdicts_total", verdict="go") == 1
    assert queue.depth() == 0
    assert queue.dead_letters() == []


def test_jira_failing_every_time_ends_as_a_dead_letter_after_the_last_attempt(queue: LocalQueue) -> None:
    metrics = run_one(queue, Script(JiraError("cannot reach Jira")))
    (letter,) = queue.dead_letters()
    assert (letter.reason, letter.attempts) == ("cannot reach Jira", 3)
    assert sample(metrics, "gonogo_webhook_checks_total", outcome="dead_letter") == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConfigurationError("JIRA_URL is not set"), "JIRA_URL is not set"),
        (KeyError("boom"), "internal error (KeyError); please report it"),
    ],
)
def test_what_waiting_cannot_cure_is_dead_lettered_at_once(
    queue: LocalQueue, error: Exception, reason: str
) -> None:
    runner = Script(error)
    run_one(queue, runner)
    assert runner.calls == ["BID-1"]
    (letter,) = queue.dead_letters()
    assert (letter.reason, letter.attempts) == (reason, 1)


def test_running_workers_never_check_one_ticket_twice_at_once(queue: LocalQueue) -> None:
    running: dict[str, int] = {}
    overlaps: list[str] = []
    guard = threading.Lock()

    def slow_check(job: Job) -> CheckOutcome:
        with guard:
            running[job.key] = running.get(job.key, 0) + 1
            if running[job.key] > 1:
                overlaps.append(job.key)
        time.sleep(0.02)
        with guard:
            running[job.key] -= 1
        return POSTED

    for n in range(8):
        queue.submit(job("BID-1", f"same-{n}"), dedupe=True)
        queue.submit(job(f"BID-{n + 2}", f"other-{n}"), dedupe=True)
    workers = Workers(
        queue=queue, run_check=slow_check, count=4, retry=FAST, metrics=Metrics(queue_depth=queue.depth)
    )
    workers.start()
    try:
        wait_until(lambda: queue.depth() == 0, timeout=10, what="all jobs to finish")
    finally:
        workers.stop(timeout=5)
    assert overlaps == []


def test_stopping_during_a_back_off_hands_the_job_back(queue: LocalQueue) -> None:
    slow = RetryPolicy(max_attempts=5, initial_seconds=60, max_seconds=60)
    runner = Script(JiraError("Jira failed with 503"))
    queue.submit(job(), dedupe=True)
    workers = Workers(
        queue=queue, run_check=runner, count=1, retry=slow, metrics=Metrics(queue_depth=queue.depth)
    )
    workers.start()
    wait_until(lambda: runner.calls == ["BID-1"], timeout=5, what="the first attempt")
    started = time.monotonic()
    workers.stop(timeout=5)
    assert time.monotonic() - started < 2
    again = queue.claim(1)
    assert again is not None
    assert again.job.key == "BID-1"


class Pauses:
    """The workers' back-off waits, recorded instead of slept."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def trouble_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "worker error, backing off"]


def test_a_queue_failure_while_acknowledging_hands_the_job_back_and_the_worker_carries_on(
    queue: LocalQueue, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The reviewer's case: `complete` hits a full disk once; the next job must still run."""
    assert queue._queue is not None
    real_ack = queue._queue.ack
    failures = [sqlite3.OperationalError("database or disk is full")]

    def ack_once_failing(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_ack(*args, **kwargs)

    monkeypatch.setattr(queue._queue, "ack", ack_once_failing)
    runner = Script(POSTED)
    pauses = Pauses()
    metrics = Metrics(queue_depth=queue.depth)
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
    # BID-1's comment was posted but not acknowledged: it was handed back and checked again.
    assert sorted(runner.calls) == ["BID-1", "BID-1", "BID-2"]
    assert pauses.seconds == [0.05]
    assert sample(metrics, "gonogo_webhook_worker_errors_total", stage="process") == 1
    (line,) = trouble_lines(caplog)
    assert line.exc_info is None  # one line, no traceback
    assert (line.__dict__["error"], line.__dict__["ticket"]) == ("QueueUnavailable", "BID-1")
    assert "disk is full" in line.__dict__["reason"]


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
        metrics=Metrics(queue_depth=queue.depth),
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
    def exits(job: Job) -> CheckOutcome:
        raise SystemExit(1)  # what no `except Exception` catches: the one way left for a thread to end

    workers = Workers(
        queue=queue,
        run_check=exits,
        count=1,
        retry=FAST,
        metrics=Metrics(queue_depth=queue.depth),
        poll_seconds=0.05,
    )
    health = health_check(queue, workers)
    assert health() is None
    queue.submit(job(), dedupe=True)
    workers.start()
    wait_until(lambda: not workers.alive(), timeout=5, what="the worker thread to end")
    assert health() == "worker threads stopped"
    again = queue.claim(1)  # handed back on the way out
    assert again is not None
    assert again.job.key == "BID-1"
