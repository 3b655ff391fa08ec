"""Wiring for `gonogo serve` and `gonogo worker`: build each part once, run, tear down in order.

`serve` is one process: uvicorn answers deliveries on the event loop and stores them; worker
threads consume the queue. `worker` is the same workers without HTTP, for the Redis queue when
one machine is not enough. uvicorn owns SIGTERM/SIGINT in `serve`: it stops accepting and
finishes the requests in flight; then the workers stop, and what they had not settled stays in
the queue for the next start.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import replace
from datetime import date

from gonogo.core.errors import ConfigurationError, JiraError
from gonogo.core.pipeline.decisions import decision_fields
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.flows.check_ticket import assess_and_post
from gonogo.jira.gateway import JiraGateway
from gonogo.jira.groups import GroupDirectory
from gonogo.redaction import REDACTOR
from gonogo.sources.config import JiraSettings, Settings
from gonogo.webhook.classify import Filters, filtered_out
from gonogo.webhook.intake import Intake, create_app
from gonogo.webhook.listener import listen, raise_descriptor_limit, serve
from gonogo.webhook.logs import setup_service_logging
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Job, WorkQueue, open_queue
from gonogo.webhook.recheck import recheck_until
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.worker import Checked, CheckRunner, NotAProposal, Workers

log = logging.getLogger("gonogo.webhook")

SHUTDOWN_GRACE_SECONDS = 10
# A member removed from an approver group can no longer approve a waiver after at most this long.
APPROVER_GROUP_LIFETIME_SECONDS = 3600.0


def stuck_after_seconds(jira: JiraSettings) -> float:
    """Ten times the longest one Jira request may take (retries and waits included): a check
    makes a handful in turn, so a worker past this is held by something no deadline covers."""
    return 10 * (jira.retries + 1) * (jira.timeout_seconds + jira.max_retry_wait_seconds)


def health_check(queue: WorkQueue, workers: Workers, *, stuck_after: float) -> Callable[[], str | None]:
    """What `/healthz` reports: None when healthy, else what is wrong."""

    def problem() -> str | None:
        if not queue.healthy():
            return "queue unavailable"
        if not workers.alive():
            return "worker threads stopped"
        if held := workers.stuck(stuck_after):
            return f"{held} worker(s) stuck on one check for longer than its Jira deadlines allow"
        return None

    return problem


def _prepare(settings: Settings, webhook: WebhookSettings, *, verbose: int) -> WebhookSettings:
    """Teach the log redactor every secret, set logging up, and ignore the credentials' own account
    (one `GET myself`): that tells the echo of gonogo's own label edit from a verdict label someone
    else moved. If Jira cannot say, the service still starts; each echo then costs one re-check."""
    token = settings.jira.token
    REDACTOR.remember_credentials(settings.jira.user, token.reveal() if token else None)
    credentials = (webhook.credentials.secret, webhook.credentials.token)
    REDACTOR.remember(*(s.reveal() for s in credentials if s is not None))
    REDACTOR.remember_url_password(webhook.queue.redis_url.reveal())
    setup_service_logging(verbose=verbose)
    settings.jira.require_connection()
    try:
        own = JiraGateway(settings.jira).account_ids()
    except JiraError as exc:
        log.warning(
            "could not read gonogo's own account (GET myself); each of its own label edits will be "
            "re-checked once: %s",
            exc,
        )
        return webhook
    return replace(
        webhook, filters=replace(webhook.filters, ignore_accounts=webhook.filters.ignore_accounts | own)
    )


def check_runner(
    assessor: Assessor, jira: JiraSettings, *, filters: Filters, today: date | None
) -> CheckRunner:
    """`gonogo check` for a job: fetch by id, apply the filters to the ticket Jira returned (an id
    may belong to any project), assess, post. A ticket outside them costs one GET, no comment."""

    def run(job: Job) -> Checked | NotAProposal:
        gateway = JiraGateway(jira)
        ticket = gateway.fetch_ticket(job.ticket, fields=assessor.fields_to_fetch(), label=job.key)
        unwanted = filtered_out(ticket.project_key, ticket.issue_type or "", filters)  # "" matches none
        if unwanted is not None:
            return NotAProposal(unwanted)
        result = assess_and_post(ticket, gateway, assessor=assessor, jira=jira, today=today or date.today())
        assert result.publication is not None  # not a dry run
        return Checked(
            verdict=result.assessment.verdict.value,
            action=result.publication.action.value,
            comment_id=result.publication.comment_id,
            key=ticket.key,
            deleted=result.publication.removed,
        )

    return run


class Checks:
    """The worker threads and the waiver re-check of one process, on `queue`."""

    def __init__(
        self, settings: Settings, webhook: WebhookSettings, queue: WorkQueue, *, today: date | None
    ) -> None:
        self.stuck_after = stuck_after_seconds(settings.jira)
        groups = GroupDirectory(lifetime_seconds=APPROVER_GROUP_LIFETIME_SECONDS)
        self.assessor = replace(build_assessor(settings), groups=groups)
        self.metrics = Metrics(queue_depth=queue.depth, stuck=lambda: self.workers.stuck(self.stuck_after))
        self.workers = Workers(
            queue=queue,
            run_check=check_runner(self.assessor, settings.jira, filters=webhook.filters, today=today),
            count=webhook.workers,
            retry=webhook.retry,
            metrics=self.metrics,
        )
        self._queue, self._jira, self._webhook, self._today = queue, settings.jira, webhook, today
        self._stopping = threading.Event()
        self._recheck = threading.Thread(
            target=self._recheck_waivers, name="gonogo-waiver-recheck", daemon=True
        )

    def start(self) -> None:
        self.workers.start()
        if self._webhook.waiver_recheck_hours > 0:
            self._recheck.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._recheck.is_alive():
            self._recheck.join(SHUTDOWN_GRACE_SECONDS)
        self.workers.stop(SHUTDOWN_GRACE_SECONDS)

    def _recheck_waivers(self) -> None:
        recheck_until(
            self._stopping,
            queue=self._queue,
            jira=self._jira,
            filters=self._webhook.filters,
            interval_seconds=self._webhook.waiver_recheck_hours * 3600,
            today=lambda: self._today or date.today(),
        )


def run_service(settings: Settings, webhook: WebhookSettings, *, today: date | None, verbose: int) -> int:
    """Serve until SIGTERM/SIGINT (status 0). Configuration problems raise before anything listens."""
    webhook = _prepare(settings, webhook, verbose=verbose)
    descriptors = raise_descriptor_limit()
    with ExitStack() as cleanup:
        listening = cleanup.enter_context(listen(webhook.host, webhook.port))
        queue = cleanup.enter_context(closing(open_queue(webhook.queue)))
        checks = Checks(settings, webhook, queue, today=today)
        intake = Intake(
            settings=webhook,
            queue=queue,
            metrics=checks.metrics,
            watched_fields=frozenset(checks.assessor.field_map.values()),
            label_prefix=settings.jira.label_prefix,
            decision_fields=decision_fields(checks.assessor.field_map),
            arrived=checks.workers.delivery_arrived,
        )
        health = health_check(queue, checks.workers, stuck_after=checks.stuck_after)
        app = create_app(intake=intake, metrics=checks.metrics, health=health)
        checks.start()
        cleanup.callback(checks.stop)
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
        serve(app, listening, max_connections=webhook.max_connections, grace_seconds=SHUTDOWN_GRACE_SECONDS)
    return 0


def run_workers(settings: Settings, webhook: WebhookSettings, *, today: date | None, verbose: int) -> int:
    """`gonogo worker`: check what any `gonogo serve` stored on Redis, until SIGTERM/SIGINT."""
    if webhook.queue.kind != "redis":
        raise ConfigurationError(
            'gonogo worker needs queue = "redis" in [webhook]: the local queue belongs to gonogo serve, '
            "which runs its own worker threads (--workers)"
        )
    webhook = _prepare(settings, webhook, verbose=verbose)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with closing(open_queue(webhook.queue)) as queue:
        checks = Checks(settings, replace(webhook, waiver_recheck_hours=0), queue, today=today)
        checks.start()
        log.info("gonogo worker ready", extra={"queue": "redis", "workers": webhook.workers})
        status = 0
        while not stop.wait(1.0):
            if not checks.workers.alive():  # never by design: exit so that a supervisor restarts it
                log.error("a worker thread ended; gonogo worker exits")
                status = 1
                break
        checks.stop()
    return status
