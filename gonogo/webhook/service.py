"""Wiring for `gonogo serve`: build every part once, run uvicorn, tear down in order.

Two processes (see `gonogo.webhook.checks_process` for why): this one answers HTTP and stores
accepted deliveries; a check process, started and supervised here, runs the workers and the
waiver re-check. Built once per process: the check assessor (compiled checklists; here only for
the fields a delivery must touch to be worth a check), the queue (its intake side here), the
metrics. The check process starts when the server has started and stops before the queue closes.
uvicorn owns SIGTERM/SIGINT: it stops accepting, finishes the requests in flight, then runs the
shutdown that stops the check process in order.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Protocol

from gonogo.core.errors import JiraError
from gonogo.core.pipeline.decisions import decision_fields
from gonogo.flows.assessor import build_assessor
from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import JiraSettings, Settings
from gonogo.webhook.app import create_app
from gonogo.webhook.checks_process import SHUTDOWN_GRACE_SECONDS, Launch, check_runner, remember_secrets
from gonogo.webhook.intake import Intake
from gonogo.webhook.listener import listen, raise_descriptor_limit, serve, server_config
from gonogo.webhook.logs import setup_service_logging
from gonogo.webhook.metrics import IntakeMetrics
from gonogo.webhook.queue import WorkQueue, open_queue
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.supervisor import ChecksProcess

__all__ = ["SHUTDOWN_GRACE_SECONDS", "check_runner", "health_check", "run_service"]

log = logging.getLogger("gonogo.webhook")


class Liveness(Protocol):
    def alive(self) -> bool: ...


def health_check(
    queue: WorkQueue,
    workers: Liveness,
    *,
    stopped: str = "worker threads stopped",
    stuck: Callable[[], int] = lambda: 0,
) -> Callable[[], str | None]:
    """What `/healthz` reports: None when healthy, else what is wrong (the queue, no workers, or
    workers stuck on a check past every deadline of its Jira requests: `stuck` counts them)."""

    def problem() -> str | None:
        if not queue.healthy():
            return "queue unavailable"
        if not workers.alive():
            return stopped
        if held := stuck():
            return f"{held} worker(s) stuck on one check for longer than its Jira deadlines allow"
        return None

    return problem


def with_own_account(
    webhook: WebhookSettings,
    jira: JiraSettings,
    *,
    connect: Callable[[JiraSettings], JiraGateway] = JiraGateway.connect,
) -> WebhookSettings:
    """The settings with the credentials' own account among `ignore_accounts` (one `GET myself`).

    That is what tells the echo of gonogo's own label edit from a verdict label someone else moved
    (which is re-checked, so a forged `gonogo-go` does not stand). If Jira cannot say, the service
    still starts: each echo then costs one quiet re-check (a GET that writes nothing).
    """
    try:
        own = connect(jira).account_ids()
    except JiraError as exc:
        log.warning(
            "could not read gonogo's own account (GET myself); each of its own label edits will be "
            "re-checked once: %s",
            exc,
        )
        return webhook
    filters = replace(webhook.filters, ignore_accounts=webhook.filters.ignore_accounts | own)
    return replace(webhook, filters=filters)


def run_service(settings: Settings, webhook: WebhookSettings, *, today: date | None, verbose: int) -> None:
    """Serve until SIGTERM/SIGINT. Configuration problems raise before anything listens."""
    remember_secrets(settings, webhook)
    setup_service_logging(verbose=verbose)
    settings.jira.require_connection()
    assessor = build_assessor(settings)  # here only for the fields a delivery must touch
    webhook = with_own_account(webhook, settings.jira)  # before the check process gets the settings
    descriptors = raise_descriptor_limit()
    listening = listen(webhook.host, webhook.port)
    metrics_dir = Path(tempfile.mkdtemp(prefix="gonogo-metrics-"))
    checks: ChecksProcess | None = None
    try:
        checks = ChecksProcess(
            Launch(settings=settings, webhook=webhook, today=today, verbose=verbose, ready_fd=-1),
            metrics_dir=metrics_dir,
        )
        queue = open_queue(webhook.queue, role="intake", on_stored=checks.nudge)
    except BaseException:
        listening.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        raise
    try:
        metrics = IntakeMetrics(queue_depth=queue.depth, worker_files=metrics_dir)
        intake = Intake(
            settings=webhook,
            queue=queue,
            metrics=metrics,
            watched_fields=frozenset(assessor.field_map.values()),
            label_prefix=settings.jira.label_prefix,
            decision_fields=decision_fields(assessor.field_map),
        )
        supervised = checks

        def started() -> None:
            supervised.start()
            log.info(
                "gonogo serve ready",
                extra={
                    "host": webhook.host,
                    "port": webhook.port,
                    "path": webhook.path,
                    "queue": webhook.queue.kind,
                    "workers": webhook.workers,
                    "open_files_limit": descriptors,
                    "max_connections": webhook.max_connections,
                    "signature": webhook.credentials.secret is not None,
                    "token": webhook.credentials.token is not None,
                },
            )

        app = create_app(
            intake=intake,
            metrics=metrics,
            path=webhook.path,
            max_body_bytes=webhook.max_body_bytes,
            request_timeout=webhook.request_timeout_seconds,
            health=health_check(
                queue, checks, stopped="check process not running", stuck=metrics.workers_stuck
            ),
            on_startup=started,
            on_shutdown=lambda: supervised.stop(SHUTDOWN_GRACE_SECONDS),
        )
        config = server_config(
            app,
            host=webhook.host,
            port=webhook.port,
            max_connections=webhook.max_connections,
            request_timeout=webhook.request_timeout_seconds,
            grace_seconds=int(SHUTDOWN_GRACE_SECONDS),
        )
        serve(config, listening)
    finally:
        checks.stop(SHUTDOWN_GRACE_SECONDS)  # a no-op after an orderly shutdown
        listening.close()
        queue.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
