"""Wiring for `gonogo serve`: build every part once, run uvicorn, tear down in order.

Built once per process: the check engine (compiled checklists), the queue, the metrics. Workers
start when the server has started and stop before the queue closes, so no job is acknowledged
against a closed queue. uvicorn owns SIGTERM/SIGINT: it stops accepting, finishes the requests in
flight, then runs the shutdown that stops the workers.
"""

from __future__ import annotations

import logging
from datetime import date

import uvicorn

from gonogo.check import check_ticket
from gonogo.config import JiraSettings, Settings
from gonogo.engine import Engine, build_engine
from gonogo.ticket import IssueKeyRef
from gonogo.webhook.app import create_app
from gonogo.webhook.intake import Intake
from gonogo.webhook.logs import setup_service_logging
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Job, open_queue
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.worker import CheckOutcome, CheckRunner, Workers

log = logging.getLogger("gonogo.webhook")

SHUTDOWN_GRACE_SECONDS = 10.0


def check_runner(engine: Engine, jira: JiraSettings, *, today: date | None) -> CheckRunner:
    """Run `gonogo check` for a job: fetch by id (or key) from JIRA_URL, assess, post the comment."""

    def run(job: Job) -> CheckOutcome:
        result = check_ticket(
            IssueKeyRef(job.ticket),
            engine=engine,
            jira=jira,
            today=today or date.today(),
            dry_run=False,
        )
        publication = result.publication
        if publication is None:  # cannot happen for a Jira ticket without dry_run
            raise RuntimeError("the check did not post a comment")
        return CheckOutcome(
            verdict=result.assessment.verdict.value,
            action=publication.action.value,
            comment_id=publication.comment_id,
        )

    return run


def run_service(settings: Settings, webhook: WebhookSettings, *, today: date | None, verbose: int) -> None:
    """Serve until SIGTERM/SIGINT. Configuration problems raise before anything listens."""
    secrets = [
        s.reveal()
        for s in (settings.jira.token, webhook.credentials.secret, webhook.credentials.token)
        if s is not None
    ]
    setup_service_logging(secrets=[*secrets, webhook.queue.redis_url.reveal()], verbose=verbose)
    settings.jira.require_connection()
    engine = build_engine(settings)
    queue = open_queue(webhook.queue)
    try:
        metrics = Metrics(queue_depth=queue.depth)
        workers = Workers(
            queue=queue,
            run_check=check_runner(engine, settings.jira, today=today),
            count=webhook.workers,
            retry=webhook.retry,
            metrics=metrics,
        )
        intake = Intake(
            settings=webhook,
            queue=queue,
            metrics=metrics,
            watched_fields=frozenset(engine.field_map.values()),
        )

        def started() -> None:
            workers.start()
            log.info(
                "gonogo serve ready",
                extra={
                    "host": webhook.host,
                    "port": webhook.port,
                    "path": webhook.path,
                    "queue": webhook.queue.kind,
                    "workers": webhook.workers,
                    "signature": webhook.credentials.secret is not None,
                    "token": webhook.credentials.token is not None,
                },
            )

        app = create_app(
            intake=intake,
            metrics=metrics,
            path=webhook.path,
            max_body_bytes=webhook.max_body_bytes,
            healthy=queue.healthy,
            on_startup=started,
            on_shutdown=lambda: workers.stop(SHUTDOWN_GRACE_SECONDS),
        )
        config = uvicorn.Config(
            app,
            host=webhook.host,
            port=webhook.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            server_header=False,
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE_SECONDS),
        )
        uvicorn.Server(config).run()
    finally:
        queue.close()
