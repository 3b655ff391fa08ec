"""From a delivery's bytes to its answer: authenticate → classify → store.

`Intake` is framework-free (bytes and headers in, a `Reply` out); `create_app`, its Starlette adapter,
runs it in the thread pool (storing is blocking I/O), so the event loop keeps answering. The answer
comes only after the job is stored; a queue that cannot store is a 503, so that Jira delivers again.
Deliveries that end here get their log line here; queued ones get theirs from the worker once checked.
Starlette answers 405 for other methods and 404 for other paths.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gonogo.webhook.classify import Decision, Ignore, Malformed
from gonogo.webhook.logs import log_delivery
from gonogo.webhook.metrics import Metrics
from gonogo.webhook.queue import Job, QueueUnavailable, WorkQueue
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.verify import authentic

DELIVERY_ID_HEADER = "x-atlassian-webhook-identifier"  # looked up in lower case, as `authentic` does
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Mapping[str, Any]


def delivery_id(headers: Mapping[str, str]) -> tuple[str, bool]:
    """Jira's id, kept across retries of one delivery, and whether it can deduplicate. An id that
    is not a plain token is not used (it would only be echoed into logs): a fresh one is made."""
    if _SAFE_ID.fullmatch(given := headers.get(DELIVERY_ID_HEADER, "")):
        return given, True
    return f"gonogo-{uuid.uuid4()}", False


@dataclass(frozen=True, kw_only=True)
class Intake:
    settings: WebhookSettings
    queue: WorkQueue
    metrics: Metrics
    classify: Callable[[bytes], Decision]  # `classify.classify` with the site's filters and fields
    arrived: Callable[[], None] = lambda: None  # told of each delivery (`Workers.delivery_arrived`)

    def refuse(self, headers: Mapping[str, str], status: int, outcome: str, error: str) -> Reply:
        """The answer for a body too large or too slow to read: nothing of it is looked at."""
        return self._finish(Reply(status, {"error": error}), delivery_id(headers)[0], outcome)

    def receive(self, body: bytes, headers: Mapping[str, str], *, started: float) -> Reply:
        """The answer for one delivery; `started` is `time.perf_counter()` at its arrival."""
        self.arrived()
        identifier, dedupe = delivery_id(headers)
        if not authentic(body, headers, self.settings):
            reply = Reply(401, {"error": "missing or wrong signature or token"})
            return self._finish(reply, identifier, "unauthorized", started)
        decision = self.classify(body)
        if isinstance(decision, Malformed):
            return self._finish(Reply(400, {"error": decision.reason}), identifier, "malformed", started)
        if isinstance(decision, Ignore):
            reply = Reply(200, {"outcome": "ignored", "reason": decision.reason, "delivery": identifier})
            fields = {"event": decision.event, "ticket": decision.key, "reason": decision.reason}
            return self._finish(reply, identifier, "ignored", started, **fields)
        job = Job(identifier, decision.key, decision.issue_id, decision.event, received_at=time.time())
        try:
            stored = self.queue.submit(job, dedupe=dedupe)
        except QueueUnavailable as exc:
            reply = Reply(503, {"error": "the queue is unavailable; deliver again later"})
            fields = {"event": job.event, "ticket": job.key, "reason": str(exc)}
            return self._finish(reply, identifier, "unavailable", started, **fields)
        if not stored:
            reply = Reply(200, {"outcome": "duplicate", "delivery": identifier})
            return self._finish(reply, identifier, "duplicate", started, event=job.event, ticket=job.key)
        self.metrics.deliveries.labels("queued").inc()
        self.metrics.ack_seconds.observe(time.perf_counter() - started)
        return Reply(200, {"outcome": "queued", "delivery": identifier, "ticket": job.key})

    def _finish(
        self, reply: Reply, delivery: str, outcome: str, started: float | None = None, **fields: Any
    ) -> Reply:
        """Count and log a delivery that ends here: the one line it gets."""
        self.metrics.deliveries.labels(outcome).inc()
        latency_ms = None
        if started is not None:
            elapsed = time.perf_counter() - started
            self.metrics.ack_seconds.observe(elapsed)
            latency_ms = round(elapsed * 1000, 1)
        line = {"delivery": delivery, "event": fields.pop("event", None), "outcome": outcome}
        log_delivery(**line, status=reply.status, latency_ms=latency_ms, **fields)
        return reply


def create_app(*, intake: Intake, health: Callable[[], str | None]) -> Starlette:
    """`POST [webhook].path`, `GET /healthz` (`health`: None, or what stops the service), `GET /metrics`."""
    limit, seconds = intake.settings.max_body_bytes, intake.settings.request_timeout_seconds
    too_large = (413, "too_large", f"the body exceeds {limit} bytes")

    async def webhook(request: Request) -> Response:
        started = time.perf_counter()
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return _json(intake.refuse(request.headers, *too_large))
        body = bytearray()
        try:
            async with asyncio.timeout(seconds):  # a trickling body must not hold the connection
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > limit:
                        return _json(intake.refuse(request.headers, *too_large))
        except TimeoutError:
            error = f"the body did not arrive within {seconds:g} s"
            return _json(intake.refuse(request.headers, 408, "too_slow", error))
        return _json(await run_in_threadpool(intake.receive, bytes(body), request.headers, started=started))

    async def healthz(request: Request) -> Response:
        problem = await run_in_threadpool(health)
        return JSONResponse({"status": problem or "ok"}, status_code=503 if problem else 200)

    async def scrape(request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, intake.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route(intake.settings.path, webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", scrape, methods=["GET"]),
        ]
    )


def _json(reply: Reply) -> Response:
    return JSONResponse(dict(reply.body), status_code=reply.status)
