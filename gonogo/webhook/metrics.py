"""What `/metrics` shows. A registry of its own, so every service (and test) counts from zero."""

from __future__ import annotations

from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0)
CHECK_OUTCOMES = ("posted", "unchanged", "ignored", "retry", "dead_letter")


class Metrics:
    """The service's series; the workers give the two gauges their functions (they see the queue)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        counter = partial(Counter, namespace="gonogo", subsystem="webhook", registry=registry)
        gauge = partial(Gauge, namespace="gonogo", subsystem="webhook", registry=registry)
        histogram = partial(Histogram, namespace="gonogo", subsystem="webhook", registry=registry)
        self.deliveries = counter(
            "deliveries",
            "Deliveries answered, by outcome (queued, duplicate, ignored, unauthorized, too_large, "
            "malformed, unavailable).",
            ["outcome"],
        )
        self.ack_seconds = histogram(
            "ack_seconds", "Time from reading a delivery's body to answering it.", buckets=_FAST
        )
        self.queue_depth = gauge(
            "queue_depth",
            "Accepted deliveries not finished yet (waiting or in progress); -1 if the queue is unreachable.",
        )
        outcomes = f"Check attempts, by outcome ({', '.join(CHECK_OUTCOMES)})."
        self.checks = counter("checks", outcomes, ["outcome"])
        for outcome in CHECK_OUTCOMES:  # every series at 0 from the start, as Prometheus advises
            self.checks.labels(outcome)
        self.worker_errors = counter(
            "worker_errors",
            "Queue failures and internal errors a worker survived and backed off from, by stage "
            "(claim, process).",
            ["stage"],
        )
        self.verdicts = counter("verdicts", "Verdicts posted, by verdict.", ["verdict"])
        self.check_seconds = histogram(
            "check_seconds", "Duration of one check attempt (fetch, assess, post).", buckets=_SLOW
        )
        self.time_to_comment_seconds = histogram(
            "time_to_comment_seconds", "Time from a delivery's arrival to its verdict comment.", buckets=_SLOW
        )
        self.in_progress = gauge(
            "checks_in_progress",
            "Jobs workers hold right now: waiting for their ticket, checking, settling, logging.",
        )
        self.workers_stuck = gauge(
            "workers_stuck", "Workers busy on one check for longer than its Jira requests' deadlines allow."
        )
