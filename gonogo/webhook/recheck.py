"""Re-checks of tickets whose comment shows a waiver past its last day.

Nothing happens in Jira when a waiver ends, so no webhook comes. gonogo keeps the waivers' last day
in its issue property, so one light search finds every ticket due; each becomes an ordinary job,
whose delivery id names the ticket and the date, so repeated or concurrent sweeps store one job.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from typing import Any

from gonogo.core.errors import GonogoError, one_line
from gonogo.core.pipeline.waivers import POINTER_KEY, waiver_due
from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import JiraSettings
from gonogo.webhook.classify import Filters
from gonogo.webhook.queue import Job, QueueUnavailable, WorkQueue
from gonogo.webhook.settings import WebhookSettings

log = logging.getLogger("gonogo.webhook.recheck")

EVENT = "gonogo:waiver-ended"


def recheck_jql(filters: Filters) -> str:
    """Open tickets of the watched projects (all projects when none are named), quoted against injection."""
    if not filters.projects:
        return "statusCategory != Done"
    quoted = ", ".join(jql_string(project) for project in sorted(filters.projects))
    return f"project in ({quoted}) AND statusCategory != Done"


def due_jobs(gateway: JiraGateway, *, jql: str, property_key: str, today: date, now: float) -> list[Job]:
    """A job for every ticket the search finds whose comment shows a waiver that ended before today."""
    pages = gateway.search(jql, fields=["labels"], properties=[property_key], deployment=gateway.deployment())
    found = (_job(raw, property_key, today, now) for page in pages for raw in page.items)
    return [job for job in found if job is not None]


def recheck_until(
    stopping: threading.Event,
    queue: WorkQueue,
    jira: JiraSettings,
    webhook: WebhookSettings,
    today: date | None,
) -> None:
    """Every `waiver_recheck_hours` (and once at start), queue a re-check of each ticket due."""
    jql = recheck_jql(webhook.filters)
    while not stopping.is_set():
        try:
            gateway, day = JiraGateway(jira), today or date.today()
            jobs = due_jobs(gateway, jql=jql, property_key=jira.comment_property, today=day, now=time.time())
        except GonogoError as exc:  # the next sweep tries again
            log.warning("waiver re-check search failed", extra={"error": one_line(exc)})
        else:
            queued = 0
            for job in jobs:
                try:
                    queued += queue.submit(job, dedupe=True)
                except QueueUnavailable:
                    log.warning(
                        "waiver re-check not queued: the queue is unavailable", extra={"ticket": job.key}
                    )
            log.info("waiver re-check sweep", extra={"due": len(jobs), "queued": queued})
        stopping.wait(webhook.waiver_recheck_hours * 3600)


def _job(raw: Any, property_key: str, today: date, now: float) -> Job | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        return None
    properties = raw.get("properties")
    pointer = properties.get(property_key) if isinstance(properties, dict) else None
    if not waiver_due(pointer, today):
        return None
    assert isinstance(pointer, dict)  # waiver_due holds only for a pointer object
    issue_id = str(raw["id"]) if isinstance(raw.get("id"), (str, int)) else None
    delivery = f"waiver-ended:{issue_id or raw['key']}:{pointer[POINTER_KEY]}"
    return Job(delivery, key=raw["key"], issue_id=issue_id, event=EVENT, received_at=now)


def jql_string(text: str) -> str:
    """`text` as a JQL string literal: quoted, so that it cannot end the clause it stands in."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
