"""The floor for bench/webhook_burst.py: a Starlette app that only answers 200, served like gonogo.

Same server (uvicorn), same settings as `gonogo serve` (no access log, no server header, lifespan
on), same route and the same kind of JSON answer; it reads the body and stores nothing. Whatever
the burst measures against it is the cost of HTTP on this machine with these senders: gonogo's
acknowledgement latency is reported as a multiple of it.

Usage: python bench/bare_app.py --port PORT
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def webhook(request: Request) -> Response:
    await request.body()
    return JSONResponse({"outcome": "queued"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = Starlette(
        routes=[Route("/webhook", webhook, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
