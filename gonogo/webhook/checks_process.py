"""The check process of `gonogo serve`: the workers and the waiver re-check, away from the HTTP side.

Why a process of its own (measured, see the closing note of issue 14b): with the workers as threads
of the HTTP process, a burst of deliveries had the event loop waiting for the GIL behind four
threads that fetch, assess and render (py-spy `--gil`: the worker threads held it in ~80 % of the
samples that held it at all), and that wait was most of an acknowledgement's time. A process has a
GIL of its own; the two meet only in the queue, which is durable anyway.

The HTTP process (`gonogo.webhook.supervisor`) starts this module as `python -m
gonogo.webhook.checks_process` and talks to it over its stdin: first the launch settings (a length
and a pickle; parent to child, so nothing outside the service writes it), then one byte at a time:
`n` (new jobs are in the local queue's inbox: move them now) and `s` (stop in order). The end of
stdin without `s` means the HTTP process died (`kill -9`): this process then ends at once, like
one killed with it, and every job it held runs again after the restart (at-least-once, as for a
crash of a single process). SIGTERM is an orderly stop too (a service manager may signal the whole
group); SIGINT is ignored, because Ctrl-C reaches the whole process group and the HTTP process
stops this one in order. Its metrics are written for the HTTP process's `/metrics` (prometheus
multiprocess mode, see `gonogo.webhook.metrics`); its log lines go to the same stderr.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from gonogo.flows.assessor import Assessor
from gonogo.jira.gateway import JiraGateway
from gonogo.redaction import REDACTOR
from gonogo.sources.config import JiraSettings, Settings
from gonogo.webhook.classify import Filters, filtered_out
from gonogo.webhook.queue import Job, WorkQueue
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.worker import Checked, CheckRunner, NotAProposal

log = logging.getLogger("gonogo.webhook")

SHUTDOWN_GRACE_SECONDS = 10.0
# How long the service trusts an approver group's member list: a member removed from the group
# can no longer approve a waiver after at most this long.
APPROVER_GROUP_LIFETIME_SECONDS = 3600.0
NUDGE, STOP = b"n", b"s"
READY = b"ready"
PARENT_GONE_EXIT = 70  # the HTTP process died: end as if killed with it
WORKERS_DIED_EXIT = 1
# Below the HTTP process in the CPU scheduler's eyes: during a burst, acknowledgements come first and
# the checks use what is left (they are minutes-tolerant; an acknowledgement is not).
CHECKS_NICENESS = 10
_LENGTH = struct.Struct("!Q")


@dataclass(frozen=True)
class Launch:
    """What the check process needs, decided (and validated) by the HTTP process."""

    settings: Settings
    webhook: WebhookSettings
    today: date | None
    verbose: int
    ready_fd: int  # written once ("ready") when the workers run

    def encode(self) -> bytes:
        body = pickle.dumps(self)
        return _LENGTH.pack(len(body)) + body


def stuck_after_seconds(jira: JiraSettings) -> float:
    """How long a check may run before its worker counts as stuck (`/healthz` then says 503).

    One Jira request ends within its deadline, retries and their waits included; a check makes a
    handful of them in turn. Ten times the longest one request may take is more than any check
    needs, and bounded: a worker past it is held by something no deadline covers.
    """
    return 10 * (jira.retries + 1) * (jira.timeout_seconds + jira.max_retry_wait_seconds)


def remember_secrets(settings: Settings, webhook: WebhookSettings) -> None:
    """Teach the log redactor every secret of the service, before anything can log."""
    token = settings.jira.token
    REDACTOR.remember_credentials(settings.jira.user, token.reveal() if token else None)
    REDACTOR.remember(
        *(s.reveal() for s in (webhook.credentials.secret, webhook.credentials.token) if s is not None)
    )
    REDACTOR.remember_url_password(webhook.queue.redis_url.reveal())


def check_runner(
    assessor: Assessor,
    jira: JiraSettings,
    *,
    filters: Filters,
    today: date | None,
    connect: Callable[[JiraSettings], JiraGateway] = JiraGateway.connect,
) -> CheckRunner:
    """Run `gonogo check` for a job: fetch by id (or key) from JIRA_URL, assess, post the comment.

    The steps of `gonogo.flows.check_ticket.check_ticket` (fetch, then `assess_and_post`), with the
    project and issue-type filters applied to the ticket Jira returned, between fetching and posting:
    the delivery only named an id and a key, and an id may belong to any project. A ticket outside the
    filters costs its one GET and gets no comment. The requests are otherwise those of a check:
    one GET, then the comment's writes.
    """
    from gonogo.flows.check_ticket import assess_and_post  # noqa: PLC0415 (the HTTP process never runs a check)

    def run(job: Job) -> Checked | NotAProposal:
        gateway = connect(jira)
        ticket = gateway.fetch_ticket(job.ticket, fields=assessor.fields_to_fetch(), label=job.key)
        # An issue type Jira did not return ("") matches no filter: unknown is not a proposal.
        unwanted = filtered_out(ticket.project_key, ticket.issue_type or "", filters)
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


def read_launch(fd: int = 0) -> Launch:
    (length,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))
    launch = pickle.loads(_read_exactly(fd, length))  # written by our own parent process
    if not isinstance(launch, Launch):
        raise SystemExit("gonogo: the check process expects its launch settings on stdin")
    return launch


def _read_exactly(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise SystemExit(PARENT_GONE_EXIT)
        data += chunk
    return data


def listen_to_parent(fd: int, *, nudge: Callable[[], None], stop: threading.Event) -> None:
    """Obey the control bytes on `fd` until it ends; its end without `s` ends this process at once."""
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            data = b""
        if not data:
            if not stop.is_set():
                os._exit(PARENT_GONE_EXIT)  # like being killed with the HTTP process: no cleanup
            return
        if STOP in data:
            stop.set()
        if NUDGE in data:
            nudge()


def run(launch: Launch) -> int:
    """Run the workers (and the waiver re-check) until told to stop; the exit status."""
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    from gonogo.flows.assessor import build_assessor  # noqa: PLC0415
    from gonogo.jira.groups import GroupDirectory  # noqa: PLC0415
    from gonogo.webhook.logs import setup_service_logging  # noqa: PLC0415
    from gonogo.webhook.metrics import WorkerMetrics  # noqa: PLC0415
    from gonogo.webhook.queue import open_queue  # noqa: PLC0415
    from gonogo.webhook.recheck import WaiverRecheck  # noqa: PLC0415
    from gonogo.webhook.worker import Workers  # noqa: PLC0415

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    os.nice(CHECKS_NICENESS)
    remember_secrets(launch.settings, launch.webhook)
    setup_service_logging(verbose=launch.verbose)
    settings, webhook, today = launch.settings, launch.webhook, launch.today
    assessor = replace(
        build_assessor(settings), groups=GroupDirectory(lifetime_seconds=APPROVER_GROUP_LIFETIME_SECONDS)
    )
    queue: WorkQueue = open_queue(webhook.queue, role="checks")
    try:
        threading.Thread(
            target=listen_to_parent,
            args=(0,),
            kwargs={"nudge": queue.nudge, "stop": stop},
            name="gonogo-parent-pipe",
            daemon=True,
        ).start()
        metrics = WorkerMetrics(CollectorRegistry())
        workers = Workers(
            queue=queue,
            run_check=check_runner(assessor, settings.jira, filters=webhook.filters, today=today),
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
        workers.start()
        recheck.start()
        os.write(launch.ready_fd, READY)
        os.close(launch.ready_fd)
        status = 0
        stuck_after = stuck_after_seconds(settings.jira)
        while not stop.wait(1.0):
            metrics.stuck.set(workers.stuck(stuck_after))
            if not workers.alive():  # never by design; if it happens, the HTTP process restarts us
                log.error("a worker thread ended; the check process restarts")
                status = WORKERS_DIED_EXIT
                break
        recheck.stop(SHUTDOWN_GRACE_SECONDS)
        workers.stop(SHUTDOWN_GRACE_SECONDS)
    finally:
        queue.close()
    return status


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the HTTP process stops us in order on Ctrl-C
    sys.exit(run(read_launch()))


if __name__ == "__main__":
    # Run as the module itself (not as `__main__`), so the launch settings unpickle to its classes.
    from gonogo.webhook import checks_process  # noqa: PLW0406 (see the comment above)

    checks_process.main()
