"""The intake without a server: answers, what gets queued, and the one log line per delivery."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from webhook_helpers import SECRET, Metrics, created_event, signed

from gonogo.redaction import RedactRecords, remember
from gonogo.sources.config import Secret
from gonogo.webhook.classify import Filters, classify
from gonogo.webhook.intake import Intake
from gonogo.webhook.logs import DELIVERY_LOGGER, JsonLines
from gonogo.webhook.queue import Job, QueueUnavailable
from gonogo.webhook.queue.local import LocalQueue
from gonogo.webhook.settings import QueueSettings, WebhookSettings

SETTINGS = WebhookSettings(
    filters=Filters(projects=frozenset({"BID"})),
)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[LocalQueue]:
    opened = LocalQueue(QueueSettings(kind="local", path=tmp_path / "queue"))
    yield opened
    opened.close()


def intake_for(queue: LocalQueue, *, secret: str | None = SECRET) -> Intake:
    settings = WebhookSettings(secret=Secret(secret) if secret else None, filters=SETTINGS.filters)
    classifier = partial(classify, filters=settings.filters)
    return Intake(settings=settings, queue=queue, metrics=Metrics(), classify=classifier)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_a_good_delivery_is_queued_before_it_is_answered(queue: LocalQueue) -> None:
    body = created_event("BID-1", "10001")
    reply = intake_for(queue).receive(body, lower(signed(body, "abc-1")), started=time.perf_counter())
    assert (reply.status, reply.body["outcome"]) == (200, "queued")
    claimed = queue.claim(0.1)
    assert claimed is not None
    assert (claimed.job.delivery_id, claimed.job.key, claimed.job.issue_id) == ("abc-1", "BID-1", "10001")


def test_each_delivery_that_ends_at_the_door_logs_one_line(
    queue: LocalQueue, caplog: pytest.LogCaptureFixture
) -> None:
    intake = intake_for(queue)
    body = created_event("OPS-1", "1")
    with caplog.at_level(logging.INFO, logger=DELIVERY_LOGGER):
        intake.receive(body, lower(signed(body, "ignored-1")), started=time.perf_counter())
        intake.receive(body, {"x-atlassian-webhook-identifier": "unsigned-1"}, started=time.perf_counter())
    records = [r for r in caplog.records if r.name == DELIVERY_LOGGER]
    assert [(r.delivery, r.outcome, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("ignored-1", "ignored", 200),
        ("unsigned-1", "unauthorized", 401),
    ]
    line = json.loads(JsonLines().format(records[0]))
    assert {"delivery", "ticket", "event", "outcome", "latency_ms"} <= line.keys()
    assert queue.depth() == 0


def test_an_odd_delivery_id_is_not_echoed_and_not_used_to_deduplicate(queue: LocalQueue) -> None:
    body = created_event("BID-1", "10001")
    headers = lower(signed(body, 'x\n{"forged": true}'))
    intake = intake_for(queue)
    first = intake.receive(body, headers, started=time.perf_counter())
    second = intake.receive(body, headers, started=time.perf_counter())
    assert first.body["delivery"].startswith("gonogo-")
    assert second.body["outcome"] == "queued"


def test_when_the_queue_cannot_store_the_job_the_sender_is_told_to_come_back(tmp_path: Path) -> None:
    class FullDisk(LocalQueue):
        def submit(self, job: Job, *, dedupe: bool) -> bool:
            raise QueueUnavailable("disk full")

    broken = FullDisk(QueueSettings(kind="local", path=tmp_path / "broken"))
    try:
        body = created_event("BID-1", "10001")
        reply = intake_for(broken, secret=None).receive(body, {}, started=time.perf_counter())
    finally:
        broken.close()
    assert reply.status == 503


def test_secrets_are_blanked_in_every_log_line() -> None:
    record = logging.makeLogRecord({"msg": "token %s", "args": ("s3cr3t",), "reason": "with s3cr3t inside"})
    remember("s3cr3t")
    assert RedactRecords().filter(record)
    line = JsonLines().format(record)
    assert "s3cr3t" not in line
    assert "***" in line
