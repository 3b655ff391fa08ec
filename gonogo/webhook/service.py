"""Wiring for `gonogo serve` and `gonogo worker`: build each part once, run, tear down in order.

`serve`: uvicorn answers and stores deliveries on the event loop, worker threads consume the queue;
on SIGTERM/SIGINT uvicorn finishes the requests in flight, then the workers stop and what they had
not settled stays queued. `worker`: the same workers without HTTP, on Redis. Half-open connections
cannot pile up: uvicorn closes idle ones, TCP keep-alive those whose peer vanished; slow headers
are a reverse proxy's job (docs/webhook-service.md).
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

import uvicorn

from gonogo.core.errors import ConfigurationError, JiraError
from gonogo.core.pipeline.decisions import decision_fields
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.flows.check_ticket import assess_and_post
from gonogo.jira.gateway import JiraGateway
from gonogo.jira.groups import GroupDirectory
from gonogo.sources.config import JiraSettings, Settings
from gonogo.webhook.classify import Filters, classify, filtered_out
from gonogo.webhook.intake import Intake, create_app
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
_NOFILE_WHEN_UNLIMITED = 65536  # Linux refuses an infinite soft limit
# A peer silent this long is probed; after the probes fail, its connection is closed (~90 s).
_KEEPALIVE = ((socket.TCP_KEEPIDLE, 60), (socket.TCP_KEEPINTVL, 10), (socket.TCP_KEEPCNT, 3))


def stuck_after_seconds(jira: JiraSettings) -> float:
    """Ten times the longest one Jira request may take (retries and waits included): a check
    makes a handful in turn, so a worker past this is held by something no deadline covers."""
    return 10 * (jira.retries + 1) * (jira.timeout_seconds + jira.max_retry_wait_seconds)


def _prepare(settings: Settings, webhook: WebhookSettings, *, verbose: int) -> WebhookSettings:
    """Set logging up (whoever reads a secret teaches it to the redactor: the settings, the Jira
    gateway, the Redis queue), and ignore the credentials' own account (one `GET myself`): that
    tells the echo of gonogo's own label edit from a verdict label someone else moved."""
    setup_service_logging(verbose=verbose)
    settings.jira.require_connection()
    try:
        own = JiraGateway(settings.jira).account_ids()
    except JiraError as exc:
        why = "each of its own label edits will be re-checked once"
        log.warning("could not read gonogo's own account (GET myself); %s: %s", why, exc)
        return webhook
    ignored = webhook.filters.ignore_accounts | own
    return replace(webhook, filters=replace(webhook.filters, ignore_accounts=ignored))


def check_runner(
    assessor: Assessor, jira: JiraSettings, *, filters: Filters, today: date | None
) -> CheckRunner:
    """`gonogo check` for a job: fetch by id (it survives a move to another project; the key does
    not), apply the filters to the ticket Jira returned (an id may name any project's), assess,
    post. A ticket outside them costs one GET, no comment."""

    def run(job: Job) -> Checked | NotAProposal:
        gateway, wanted = JiraGateway(jira), assessor.fields_to_fetch()
        ticket = gateway.fetch_ticket(job.issue_id or job.key, fields=wanted, label=job.key)
        if unwanted := filtered_out(ticket.project_key, ticket.issue_type or "", filters):  # "": matches none
            return NotAProposal(unwanted)
        result = assess_and_post(ticket, gateway, assessor=assessor, today=today or date.today())
        posted = result.publication
        assert posted is not None  # not a dry run
        verdict, action = result.assessment.verdict.value, posted.action.value
        return Checked(verdict, action, posted.comment_id, key=ticket.key, deleted=posted.removed)

    return run


@contextmanager
def running_checks(
    settings: Settings, webhook: WebhookSettings, *, today: date | None
) -> Iterator[tuple[WorkQueue, Assessor, Workers]]:
    """The queue, the worker threads and the waiver re-check of one process, until the block ends:
    what they had not settled by then stays queued for the next start."""
    with closing(open_queue(webhook.queue)) as queue:
        groups = GroupDirectory(lifetime_seconds=APPROVER_GROUP_LIFETIME_SECONDS)
        assessor = replace(build_assessor(settings), groups=groups)
        workers = Workers(
            queue=queue,
            run_check=check_runner(assessor, settings.jira, filters=webhook.filters, today=today),
            count=webhook.workers,
            retry=webhook.retry,
            metrics=Metrics(),
            stuck_after=stuck_after_seconds(settings.jira),
        )
        stopping = threading.Event()
        args = (stopping, queue, settings.jira, webhook, today)
        recheck = threading.Thread(target=recheck_until, args=args, name="gonogo-waiver-recheck", daemon=True)
        workers.start()
        if webhook.waiver_recheck_hours > 0:
            recheck.start()
        try:
            yield queue, assessor, workers
        finally:
            stopping.set()
            if recheck.is_alive():
                recheck.join(SHUTDOWN_GRACE_SECONDS)
            workers.stop(SHUTDOWN_GRACE_SECONDS)


def run_service(settings: Settings, webhook: WebhookSettings, *, today: date | None, verbose: int) -> int:
    """Serve until SIGTERM/SIGINT (status 0). Configuration problems raise before anything listens."""
    webhook = _prepare(settings, webhook, verbose=verbose)
    descriptors = raise_descriptor_limit()
    with ExitStack() as cleanup:
        listening = cleanup.enter_context(listen(webhook.host, webhook.port))
        queue, assessor, workers = cleanup.enter_context(running_checks(settings, webhook, today=today))
        decide = partial(
            classify,
            filters=webhook.filters,
            watched_fields=frozenset(assessor.field_map.values()),
            label_prefix=settings.jira.label_prefix,
            decision_fields=decision_fields(assessor.field_map),
        )
        intake = Intake(
            settings=webhook,
            queue=queue,
            metrics=workers.metrics,
            classify=decide,
            arrived=workers.delivery_arrived,
        )
        app = create_app(intake=intake, health=workers.health)
        ready = {"host": webhook.host, "port": webhook.port, "path": webhook.path}
        ready |= {"queue": webhook.queue.kind, "workers": webhook.workers, "open_files_limit": descriptors}
        ready |= {"max_connections": webhook.max_connections, "signature": webhook.secret is not None}
        log.info("gonogo serve ready", extra={**ready, "token": webhook.token is not None})
        serve(app, listening, max_connections=webhook.max_connections)
    return 0


def run_workers(settings: Settings, webhook: WebhookSettings, *, today: date | None, verbose: int) -> int:
    """`gonogo worker`: check what any `gonogo serve` stored on Redis, until SIGTERM/SIGINT."""
    if webhook.queue.kind != "redis":
        raise ConfigurationError(
            'gonogo worker needs queue = "redis" in [webhook]: the local queue belongs to gonogo serve, '
            "which runs its own worker threads (--workers)"
        )
    webhook = _prepare(settings, replace(webhook, waiver_recheck_hours=0), verbose=verbose)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with running_checks(settings, webhook, today=today) as (_, _, workers):
        log.info("gonogo worker ready", extra={"queue": "redis", "workers": webhook.workers})
        while not stop.wait(1.0):
            if not workers.alive():  # never by design: exit so that a supervisor restarts it
                log.error("a worker thread ended; gonogo worker exits")
                return 1
    return 0


def raise_descriptor_limit() -> int:
    """Raise the soft limit on open files to the hard one (no privilege needed); the limit in force.
    Every connection, SQLite file and Redis socket takes a descriptor; 1024 is soon reached."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _NOFILE_WHEN_UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with suppress(ValueError, OSError):  # a container may forbid it; the service runs at the old limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return int(soft)


def listen(host: str, port: int) -> socket.socket:
    """Bind before uvicorn starts, so that a taken port is one clear error. Accepted connections
    inherit TCP_NODELAY (uvicorn writes headers and body separately, and Nagle with the client's
    delayed ACK held each answer ~40 ms) and keep-alive."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listening = socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else exc.__class__.__name__
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({reason}): stop what uses that port, "
            "or choose another with --port or [webhook].port"
        ) from None
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in _KEEPALIVE:
        listening.setsockopt(socket.IPPROTO_TCP, option, value)
    return listening


def serve(app: Any, listening: socket.socket, *, max_connections: int) -> None:
    """Run uvicorn on `listening` until SIGTERM/SIGINT; an orderly stop returns normally. After its
    graceful shutdown uvicorn restores the handlers it found and raises the signal again (status
    -15): the handlers installed here are the ones it restores, so `gonogo serve` exits 0. No body
    timeout is set here: the app itself bounds the time a request body may take."""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        http="h11",
        limit_concurrency=max_connections,  # beyond it, uvicorn answers 503
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers
        timeout_keep_alive=5,  # an idle connection is closed: part of the half-open guarantee
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    original = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
