"""The HTTP edge (Starlette): read the body within its limits, hand it to the intake, answer.

Verifying and storing run in the thread pool (storing is blocking I/O: SQLite or Redis), so the
event loop keeps answering. Starlette answers 405 for other methods and 404 for other paths.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gonogo.webhook.intake import Intake, Reply
from gonogo.webhook.metrics import Metrics


def create_app(
    *,
    intake: Intake,
    metrics: Metrics,
    path: str,
    max_body_bytes: int,
    request_timeout: float,
    health: Callable[[], str | None],
) -> Starlette:
    """`POST <path>`, `GET /healthz` (`health`: None, or what stops the service), `GET /metrics`."""

    async def webhook(request: Request) -> Response:
        started = time.perf_counter()
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            return _json(intake.too_large(request.headers, limit=max_body_bytes))
        body = bytearray()
        try:
            async with asyncio.timeout(request_timeout):  # a trickling body must not hold the connection
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > max_body_bytes:
                        return _json(intake.too_large(request.headers, limit=max_body_bytes))
        except TimeoutError:
            return _json(intake.too_slow(request.headers, limit=request_timeout))
        return _json(await run_in_threadpool(intake.receive, bytes(body), request.headers, started=started))

    async def healthz(request: Request) -> Response:
        problem = await run_in_threadpool(health)
        return JSONResponse({"status": problem or "ok"}, status_code=503 if problem else 200)

    async def scrape(request: Request) -> Response:
        body, content_type = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=content_type)

    return Starlette(
        routes=[
            Route(path, webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", scrape, methods=["GET"]),
        ]
    )


def _json(reply: Reply) -> Response:
    return JSONResponse(dict(reply.body), status_code=reply.status)
