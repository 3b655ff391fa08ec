"""The HTTP edge (Starlette): read the body within its limit, hand it to the intake, write the answer.

Nothing is decided here. The intake's checks at the door (signature, what the delivery is) are CPU
only and run on the event loop; storing the job is blocking I/O (SQLite or Redis), so it goes to
the one writer thread (`gonogo.webhook.writer`) and the loop keeps answering other deliveries while
it waits. A large body is screened in the thread pool instead, so it cannot stall the loop. Starlette
itself answers 405 for other methods and 404 for other paths.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gonogo.webhook.intake import Accepted, Intake, Reply
from gonogo.webhook.metrics import IntakeMetrics
from gonogo.webhook.writer import SerialWriter

# Bodies up to this size are screened (HMAC, JSON) on the event loop: well under a millisecond.
INLINE_SCREEN_BYTES = 64 * 1024


def create_app(
    *,
    intake: Intake,
    metrics: IntakeMetrics,
    path: str,
    max_body_bytes: int,
    request_timeout: float,
    health: Callable[[], str | None],
    on_startup: Callable[[], None],
    on_shutdown: Callable[[], None],
) -> Starlette:
    """The ASGI application: `POST <path>`, `GET /healthz`, `GET /metrics`.

    `health` returns None when the service can do its work, else what stops it (`/healthz` says 503).
    """
    writer: SerialWriter[Accepted, Reply] = SerialWriter(intake.store_many)

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
        if len(body) <= INLINE_SCREEN_BYTES:
            step = intake.screen(bytes(body), request.headers, started=started)
        else:
            step = await run_in_threadpool(intake.screen, bytes(body), request.headers, started=started)
        if isinstance(step, Reply):
            return _json(step)
        return _json(await writer.submit(step))

    async def healthz(request: Request) -> Response:
        problem = await run_in_threadpool(health)
        return JSONResponse({"status": problem or "ok"}, status_code=503 if problem else 200)

    async def scrape(request: Request) -> Response:
        body, content_type = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=content_type)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        writer.start()
        on_startup()
        try:
            yield
        finally:
            await run_in_threadpool(writer.stop)  # no request is in flight any more
            await run_in_threadpool(on_shutdown)

    return Starlette(
        routes=[
            Route(path, webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", scrape, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _json(reply: Reply) -> Response:
    return JSONResponse(dict(reply.body), status_code=reply.status)
