"""Re-checks of tickets whose comment shows a waiver past its last day.

Nothing happens in Jira when a waiver ends, so no webhook comes. gonogo keeps the waivers' last day
in its issue property, so one light search finds every ticket due; each becomes an ordinary job,
whose delivery id names the ticket and the date, so repeated or concurrent sweeps store one job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from gonogo.core.errors import GonogoError
from gonogo.core.pipeline.waivers import POINTER_KEY, waiver_due
from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import JiraSettings
from gonogo.webhook.classify import Filters
from gonogo.webhook.queue import Job, QueueUnavailable, WorkQueue

log = logging.getLogger("gonogo.webhook.recheck")

EVENT = "gonogo:waiver-ended"


def recheck_jql(filters: Filters) -> str:
    """Open tickets of the watched projects (all projects when none are named), quoted against injection."""
    if not filters.projects:
        return "statusCategory != Done"
    quoted = ", ".join(_jql_string(project) for project in sorted(filters.projects))
    return f"project in ({quoted}) AND statusCategory != Done"


def due_jobs(gateway: JiraGateway, *, jql: str, property_key: str, today: date, now: float) -> list[Job]:
    """A job for every ticket the search finds whose comment shows a waiver that ended before today."""
    deployment = gateway.deployment()
    jobs: list[Job] = []
    for page in gateway.search(jql, fields=["labels"], properties=[property_key], deployment=deployment):
        for raw in page.issues:
            job = _job(raw, property_key, today, now)
            if job is not None:
                jobs.append(job)
    return jobs


class WaiverRecheck:
    """Every `interval_seconds` (and once at start), queue a re-check of each ticket whose waiver ended."""

    def __init__(
        self,
        *,
        queue: WorkQueue,
        jira: JiraSettings,
        filters: Filters,
        interval_seconds: float,
        today: Callable[[], date],
        connect: Callable[[JiraSettings], JiraGateway] = JiraGateway,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._queue = queue
        self._jira = jira
        self._jql = recheck_jql(filters)
        self._interval = interval_seconds
        self._today = today
        self._connect = connect
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One sweep: how many re-checks were queued (0 when the search failed; the next sweep retries)."""
        try:
            jobs = due_jobs(
                self._connect(self._jira),
                jql=self._jql,
                property_key=self._jira.comment_property,
                today=self._today(),
                now=self._clock(),
            )
        except GonogoError as exc:
            log.warning("waiver re-check search failed", extra={"error": " ".join(str(exc).split())})
            return 0
        queued = 0
        for job in jobs:
            try:
                queued += bool(self._queue.submit(job, dedupe=True))
            except QueueUnavailable:
                log.warning("waiver re-check not queued: the queue is unavailable", extra={"ticket": job.key})
        log.info("waiver re-check sweep", extra={"due": len(jobs), "queued": queued})
        return queued

    def start(self) -> None:
        if self._interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="gonogo-waiver-recheck", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.run_once()
            self._stopping.wait(self._interval)


def _job(raw: Any, property_key: str, today: date, now: float) -> Job | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        return None
    properties = raw.get("properties")
    pointer = properties.get(property_key) if isinstance(properties, dict) else None
    if not waiver_due(pointer, today):
        return None
    assert isinstance(pointer, dict)  # waiver_due holds only for a pointer object
    issue_id = str(raw["id"]) if isinstance(raw.get("id"), (str, int)) else None
    return Job(
        delivery_id=f"waiver-ended:{issue_id or raw['key']}:{pointer[POINTER_KEY]}",
        key=raw["key"],
        issue_id=issue_id,
        event=EVENT,
        received_at=now,
    )


def _jql_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
