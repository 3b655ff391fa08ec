"""What `/metrics` shows, in Prometheus' text format (prometheus_client).

A registry of its own rather than the library's global one, so every service (and every test)
counts from zero and nothing else in the process leaks into the scrape.

Two halves, because `gonogo serve` is two processes (see `gonogo.webhook.checks_process`): the HTTP
process counts deliveries and acknowledgements (`IntakeMetrics`), the check process counts checks
(`WorkerMetrics`). The check process runs prometheus_client in its documented multiprocess mode
(`PROMETHEUS_MULTIPROC_DIR` set before the library is imported there), so its values live in files
that the HTTP process reads at each scrape with a `MultiProcessCollector`: one scrape shows both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0)


class WorkerMetrics:
    """The check workers' metrics, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.checks = Counter(
            "gonogo_webhook_checks",
            "Check attempts, by outcome (posted, unchanged, ignored, retry, dead_letter).",
            ["outcome"],
            registry=registry,
        )
        self.worker_errors = Counter(
            "gonogo_webhook_worker_errors",
            "Queue failures and internal errors a worker survived and backed off from, by stage "
            "(claim, process).",
            ["stage"],
            registry=registry,
        )
        self.verdicts = Counter(
            "gonogo_webhook_verdicts", "Verdicts posted, by verdict.", ["verdict"], registry=registry
        )
        self.check_seconds = Histogram(
            "gonogo_webhook_check_seconds",
            "Duration of one check attempt (fetch, assess, post).",
            buckets=_SLOW,
            registry=registry,
        )
        self.time_to_comment_seconds = Histogram(
            "gonogo_webhook_time_to_comment_seconds",
            "Time from a delivery's arrival to its verdict comment.",
            buckets=_SLOW,
            registry=registry,
        )
        # "livesum": in multiprocess mode, the sum over check processes that are alive.
        self.in_progress = Gauge(
            "gonogo_webhook_checks_in_progress",
            "Jobs workers hold right now: waiting for their ticket, checking, settling, logging.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.stuck = Gauge(
            "gonogo_webhook_workers_stuck",
            "Workers busy on one check for longer than its Jira requests' deadlines allow.",
            registry=registry,
            multiprocess_mode="livemax",
        )
        # Every outcome at 0 from the start (Prometheus' advice for labelled series), which also
        # creates the check process's counter file before any worker runs. prometheus_client makes
        # that file empty and sizes it a moment later; a scrape in that moment fails whole
        # (client_python issue 1199). Made lazily, at a first check, a waiting scrape could hit it.
        for outcome in ("posted", "unchanged", "ignored", "retry", "dead_letter"):
            self.checks.labels(outcome)


class IntakeMetrics:
    """The HTTP side's metrics; `worker_files`: where a check process writes its `WorkerMetrics`."""

    def __init__(self, *, queue_depth: Callable[[], int], worker_files: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "gonogo_webhook_deliveries",
            "Deliveries answered, by outcome (queued, duplicate, ignored, unauthorized, too_large, "
            "malformed, unavailable).",
            ["outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "gonogo_webhook_ack_seconds",
            "Time from reading a delivery's body to answering it.",
            buckets=_FAST,
            registry=self.registry,
        )
        depth = Gauge(
            "gonogo_webhook_queue_depth",
            "Accepted deliveries not finished yet (waiting or in progress); -1 if the queue is unreachable.",
            registry=self.registry,
        )
        depth.set_function(lambda: float(queue_depth()))
        if worker_files is not None:
            from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

            MultiProcessCollector(self.registry, path=str(worker_files))  # type: ignore[no-untyped-call]

    def workers_stuck(self) -> int:
        """What the check process last said of its stuck workers (`WorkerMetrics.stuck`); 0 if nothing."""
        value = self.registry.get_sample_value("gonogo_webhook_workers_stuck")
        return int(value or 0)

    def exposition(self) -> tuple[bytes, str]:
        """The scrape body and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
