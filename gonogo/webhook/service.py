"""Wiring for `gonogo serve`: build every part once, run uvicorn, tear down in order.

Built once per process: the check engine (compiled checklists), the queue, the metrics. Workers
start when the server has started and stop before the queue closes, so no job is acknowledged
against a closed queue. uvicorn owns SIGTERM/SIGINT: it stops accepting, finishes the requests in
flight, then runs the shutdown that stops the workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from gonogo.check import assess_and_post
from gonogo.config import JiraSettings, Settings
from gonogo.engine import Engine, build_engine
from gonogo.jira_gateway import JiraGateway
from gonogo.redaction import REDACTOR
from gonogo.webhook.app import create_app
from gonogo.webhook.deliveries import filtered_out
from gonogo.webhook.intake import Intake
from gonogo.webhook.listener import listen, raise_descriptor_limit, serve, server_config
from gonogo.webhook.logs import setup_service_logging
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Job, WorkQueue, open_queue
from gonogo.webhook.recheck import WaiverRecheck
from gonogo.webhook.settings import Filters, WebhookSettings
from gonogo.webhook.worker import CheckOutcome, CheckRunner, Ignored, Workers

log = logging.getLogger("gonogo.webhook")

SHUTDOWN_GRACE_SECONDS = 10.0


def check_runner(
    engine: Engine,
    jira: JiraSettings,
    *,
    filters: Filters,
    today: date | None,
    connect: Callable[[JiraSettings], JiraGateway] = JiraGateway.connect,
) -> CheckRunner:
    """Run `gonogo check` for a job: fetch by id (or key) from JIRA_URL, assess, post the comment.

    The steps of `gonogo.check.check_ticket` (fetch, then `assess_and_post`), with the project and
    issue-type filters applied to the ticket Jira returned, between fetching and posting: the
    delivery only named an id and a key, and an id may belong to any project. A ticket outside the
    filters costs its one GET and gets no comment. The requests are otherwise those of a check:
    one GET, then the comment's writes.
    """

    def run(job: Job) -> CheckOutcome | Ignored:
        gateway = connect(jira)
        ticket = gateway.fetch_ticket(job.ticket, fields=engine.fields_to_fetch(), label=job.key)
        # An issue type Jira did not return ("") matches no filter: unknown is not a proposal.
        unwanted = filtered_out(ticket.project_key, ticket.issue_type or "", filters)
        if unwanted is not None:
            return Ignored(unwanted)
        result = assess_and_post(ticket, gateway, engine=engine, jira=jira, today=today or date.today())
        assert result.publication is not None  # not a dry run
        return CheckOutcome(
            verdict=result.assessment.verdict.value,
            action=result.publication.action.value,
            comment_id=result.publication.comment_id,
            key=ticket.key,
        )

    return run


def health_check(queue: WorkQueue, workers: Workers) -> Callable[[], str | None]:
    """What `/healthz` reports: None when healthy, else what is wrong (the queue, or dead workers)."""

    def problem() -> str | None:
        if not queue.healthy():
            return "queue unavailable"
        if not workers.alive():
            return "worker threads stopped"
        return None

    return problem


def run_service(settings: Settings, webhook: WebhookSettings, *, today: date | None, verbose: int) -> None:
    """Serve until SIGTERM/SIGINT. Configuration problems raise before anything listens."""
    token = settings.jira.token
    REDACTOR.remember_credentials(settings.jira.user, token.reveal() if token else None)
    REDACTOR.remember(
        *(s.reveal() for s in (webhook.credentials.secret, webhook.credentials.token) if s is not None)
    )
    REDACTOR.remember_url_password(webhook.queue.redis_url.reveal())
    setup_service_logging(verbose=verbose)
    settings.jira.require_connection()
    engine = build_engine(settings)
    descriptors = raise_descriptor_limit()
    listening = listen(webhook.host, webhook.port)
    try:
        queue = open_queue(webhook.queue)
    except BaseException:
        listening.close()
        raise
    try:
        metrics = Metrics(queue_depth=queue.depth)
        workers = Workers(
            queue=queue,
            run_check=check_runner(engine, settings.jira, filters=webhook.filters, today=today),
            count=webhook.workers,
            retry=webhook.retry,
            metrics=metrics,
        )
        recheck = WaiverRecheck(
            queue=queue,
            jira=settings.jira,
            filters=webhook.filters,
            interval_seconds=webhook.waiver_recheck_hours * 3600,
            today=lambda: today or date.today(),
        )
        intake = Intake(
            settings=webhook,
            queue=queue,
            metrics=metrics,
            watched_fields=frozenset(engine.field_map.values()),
            label_prefix=settings.jira.label_prefix,
        )

        def started() -> None:
            workers.start()
            recheck.start()
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

        def stopping() -> None:
            recheck.stop(SHUTDOWN_GRACE_SECONDS)
            workers.stop(SHUTDOWN_GRACE_SECONDS)

        app = create_app(
            intake=intake,
            metrics=metrics,
            path=webhook.path,
            max_body_bytes=webhook.max_body_bytes,
            request_timeout=webhook.request_timeout_seconds,
            health=health_check(queue, workers),
            on_startup=started,
            on_shutdown=stopping,
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
        listening.close()
        queue.close()
