"""Workers: retry Jira trouble with back-off, dead-letter what waiting cannot cure, never overlap
checks of one ticket, and acknowledge only when the check is over."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from webhook_helpers import wait_until

from gonogo.errors import ConfigurationError, JiraError
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Job
from gonogo.webhook.queue_local import LocalQueue
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
