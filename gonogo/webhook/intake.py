"""From a delivery's bytes to its answer: authenticate → classify → store, framework-free.

The answer comes only after the job is stored, so an acknowledged delivery is never lost; a queue
that cannot store is a 503, so that Jira delivers again. Deliveries that end here get their log
line here; queued ones get theirs from the worker once checked.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gonogo.webhook.classify import CheckTicket, Ignore, Malformed, classify
from gonogo.webhook.logs import log_delivery
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Job, QueueUnavailable, WorkQueue
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.verify import Authenticity, authenticate

DELIVERY_ID_HEADER = "X-Atlassian-Webhook-Identifier"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)


def delivery_id(headers: Mapping[str, str]) -> tuple[str, bool]:
    """Jira's id, kept across retries of one delivery, and whether it can deduplicate. An id that
    is not a plain token is not used (it would only be echoed into logs): a fresh one is made."""
    given = headers.get(DELIVERY_ID_HEADER.lower()) or headers.get(DELIVERY_ID_HEADER) or ""
    if _SAFE_ID.fullmatch(given):
        return given, True
    return f"gonogo-{uuid.uuid4()}", False


class Intake:
    def __init__(
        self,
        *,
        settings: WebhookSettings,
        queue: WorkQueue,
        metrics: Metrics,
        watched_fields: frozenset[str],
        label_prefix: str = "",
        decision_fields: frozenset[str] = frozenset(),
        arrived: Callable[[], None] = lambda: None,
    ) -> None:
        """`arrived` is told of each delivery (see `gonogo.webhook.worker.DeliveriesFirst`)."""
        self._arrived = arrived
        credentials = settings.credentials
        self._secret = credentials.secret.reveal() if credentials.secret else None
        self._token = credentials.token.reveal() if credentials.token else None
        self._token_header = credentials.token_header
        self._filters = settings.filters
        self._watched = watched_fields
        self._label_prefix = label_prefix
        self._decision_fields = decision_fields
        self._queue = queue
        self._metrics = metrics

    def too_large(self, headers: Mapping[str, str], *, limit: int) -> Reply:
        reply = Reply(413, {"error": f"the body exceeds {limit} bytes"})
        return self._finish(reply, delivery_id(headers)[0], "too_large", None, None)

    def too_slow(self, headers: Mapping[str, str], *, limit: float) -> Reply:
        reply = Reply(408, {"error": f"the body did not arrive within {limit:g} s"})
        return self._finish(reply, delivery_id(headers)[0], "too_slow", None, None)

    def receive(self, body: bytes, headers: Mapping[str, str], *, started: float) -> Reply:
        """The answer for one delivery; `started` is `time.perf_counter()` at its arrival."""
        self._arrived()
        identifier, dedupe = delivery_id(headers)
        authenticity = authenticate(
            body, headers, secret=self._secret, token=self._token, token_header=self._token_header
        )
        if authenticity is Authenticity.REJECTED:
            reply = Reply(401, {"error": "missing or wrong signature or token"})
            return self._finish(reply, identifier, "unauthorized", None, started)
        decision = classify(
            body,
            filters=self._filters,
            watched_fields=self._watched,
            label_prefix=self._label_prefix,
            decision_fields=self._decision_fields,
        )
        if isinstance(decision, Malformed):
            return self._finish(
                Reply(400, {"error": decision.reason}), identifier, "malformed", None, started
            )
        if isinstance(decision, Ignore):
            reply = Reply(200, {"outcome": "ignored", "reason": decision.reason, "delivery": identifier})
            return self._finish(
                reply, identifier, "ignored", decision, started, ticket=decision.key, reason=decision.reason
            )
        job = Job(identifier, decision.key, decision.issue_id, decision.event, received_at=time.time())
        return self._store(job, decision, dedupe, started)

    def _store(self, job: Job, decision: CheckTicket, dedupe: bool, started: float) -> Reply:
        try:
            stored = self._queue.submit(job, dedupe=dedupe)
        except QueueUnavailable as exc:
            reply = Reply(503, {"error": "the queue is unavailable; deliver again later"})
            return self._finish(
                reply, job.delivery_id, "unavailable", decision, started, ticket=job.key, reason=str(exc)
            )
        if not stored:
            reply = Reply(200, {"outcome": "duplicate", "delivery": job.delivery_id})
            return self._finish(reply, job.delivery_id, "duplicate", decision, started, ticket=job.key)
        self._metrics.deliveries.labels("queued").inc()
        self._metrics.ack_seconds.observe(time.perf_counter() - started)
        return Reply(200, {"outcome": "queued", "delivery": job.delivery_id, "ticket": job.key})

    def _finish(
        self,
        reply: Reply,
        identifier: str,
        outcome: str,
        decision: CheckTicket | Ignore | None,
        started: float | None,
        **fields: Any,
    ) -> Reply:
        self._metrics.deliveries.labels(outcome).inc()
        latency_ms = None
        if started is not None:
            elapsed = time.perf_counter() - started
            self._metrics.ack_seconds.observe(elapsed)
            latency_ms = round(elapsed * 1000, 1)
        event = decision.event if decision is not None else None
        log_delivery(
            delivery=identifier,
            event=event,
            outcome=outcome,
            status=reply.status,
            latency_ms=latency_ms,
            **fields,
        )
        return reply
