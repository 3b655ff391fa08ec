"""From a delivery's raw bytes to an answer: authenticate → classify → durably enqueue.

The HTTP layer reads the body (enforcing the size limit) and writes the reply; everything between
is here, independent of the web framework. The reply is decided only after the job is stored, so
an acknowledged delivery is never lost; a queue failure is answered 503 so that Jira delivers again.
Deliveries that end here (rejected, ignored, duplicate) get their log line here; queued ones get
theirs from the worker when the check has finished.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gonogo.webhook.classify import CheckTicket, Ignore, Malformed, classify
from gonogo.webhook.logs import log_delivery
from gonogo.webhook.metrics import IntakeMetrics
from gonogo.webhook.queue import Job, QueueUnavailable, WorkQueue
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.verify import Authenticity, authenticate

DELIVERY_ID_HEADER = "X-Atlassian-Webhook-Identifier"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)


class Accepted(NamedTuple):
    """A delivery that passed the door and names a ticket to check: it still has to be stored."""

    job: Job
    decision: CheckTicket
    dedupe: bool
    started: float


def delivery_id(headers: Mapping[str, str]) -> tuple[str, bool]:
    """The sender's delivery id and whether it can deduplicate; else a fresh id for the log.

    Jira keeps `X-Atlassian-Webhook-Identifier` across retries of one delivery. An id that is not
    a plain token is not used at all (it would only be echoed into logs); without one, the delivery
    is not deduplicated: the per-ticket lock and the sticky comment still keep it to one comment.
    """
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
        metrics: IntakeMetrics,
        watched_fields: frozenset[str],
        label_prefix: str = "",
        decision_fields: frozenset[str] = frozenset(),
    ) -> None:
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
        """Answer for a body over `limit` bytes (it is not read further)."""
        identifier, _ = delivery_id(headers)
        return self._finish(
            Reply(413, {"error": f"the body exceeds {limit} bytes"}), identifier, "too_large", None, None
        )

    def too_slow(self, headers: Mapping[str, str], *, limit: float) -> Reply:
        """Answer for a body that did not arrive within `limit` seconds (the connection is dropped)."""
        identifier, _ = delivery_id(headers)
        reply = Reply(408, {"error": f"the body did not arrive within {limit:g} s"})
        return self._finish(reply, identifier, "too_slow", None, None)

    def receive(self, body: bytes, headers: Mapping[str, str], *, started: float) -> Reply:
        """Decide the answer for one delivery; `started` is `time.perf_counter()` at its arrival."""
        step = self.screen(body, headers, started=started)
        return step if isinstance(step, Reply) else self.store(step)

    def screen(self, body: bytes, headers: Mapping[str, str], *, started: float) -> Reply | Accepted:
        """Everything before storing (authenticate, classify): CPU only, no I/O, so the HTTP layer
        runs it on the event loop. A delivery that ends here gets its Reply; one to check is Accepted
        and still has to be stored (`store`) before it may be acknowledged."""
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
        return Accepted(job, decision, dedupe, started)

    def store(self, accepted: Accepted) -> Reply:
        """Store one accepted delivery durably and answer for it (blocking: SQLite or Redis)."""
        return self.store_many([accepted])[0]

    def store_many(self, batch: Sequence[Accepted]) -> list[Reply]:
        """Store accepted deliveries together (the local queue: one commit) and answer for each."""
        try:
            stored = self._queue.submit_many([(a.job, a.dedupe) for a in batch])
        except QueueUnavailable as exc:
            reply = Reply(503, {"error": "the queue is unavailable; deliver again later"})
            return [
                self._finish(
                    reply,
                    a.job.delivery_id,
                    "unavailable",
                    a.decision,
                    a.started,
                    ticket=a.job.key,
                    reason=str(exc),
                )
                for a in batch
            ]
        return [self._answer(a, fresh) for a, fresh in zip(batch, stored, strict=True)]

    def _answer(self, accepted: Accepted, stored: bool) -> Reply:
        job, decision, _, started = accepted
        identifier = job.delivery_id
        if not stored:
            reply = Reply(200, {"outcome": "duplicate", "delivery": identifier})
            return self._finish(reply, identifier, "duplicate", decision, started, ticket=job.key)
        self._metrics.deliveries.labels("queued").inc()
        self._metrics.ack_seconds.observe(time.perf_counter() - started)
        return Reply(200, {"outcome": "queued", "delivery": identifier, "ticket": job.key})

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
        log_delivery(
            delivery=identifier,
            event=decision.event if decision is not None else None,
            outcome=outcome,
            status=reply.status,
            latency_ms=latency_ms,
            **fields,
        )
        return reply
