"""The service's socket, descriptors and signals, through uvicorn's and the OS's public options.

Slow or half-sent request headers are a reverse proxy's job (docs/webhook-service.md): uvicorn
bounds connections (`limit_concurrency`), header size and keep-alive; TCP keep-alive ends
connections whose peer vanished, so half-open connections cannot pile up.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
from typing import Any

import uvicorn

from gonogo.core.errors import ConfigurationError

_NOFILE_WHEN_UNLIMITED = 65536  # Linux refuses an infinite soft limit
# A peer silent this long is probed; after the probes fail, its connection is closed (~90 s).
_KEEPALIVE = ((socket.TCP_KEEPIDLE, 60), (socket.TCP_KEEPINTVL, 10), (socket.TCP_KEEPCNT, 3))


def raise_descriptor_limit() -> int:
    """Raise the soft limit on open files to the hard one (no privilege needed); the limit in force.

    Every connection, SQLite file and Redis socket takes a descriptor; 1024 is soon reached."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _NOFILE_WHEN_UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass  # a container may forbid it; the service runs at the old limit
    return int(soft)


def listen(host: str, port: int) -> socket.socket:
    """Bind before uvicorn starts, so that a taken port is one clear error.

    Accepted connections inherit the options: TCP_NODELAY (uvicorn writes headers and body
    separately, and Nagle with the client's delayed ACK held each answer ~40 ms), and keep-alive."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listening = socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else exc.__class__.__name__
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({reason}): stop what "
            "uses that port, or choose another with --port or [webhook].port"
        ) from None
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in _KEEPALIVE:
        listening.setsockopt(socket.IPPROTO_TCP, option, value)
    return listening


def serve(app: Any, listening: socket.socket, *, max_connections: int, grace_seconds: int) -> None:
    """Run uvicorn on `listening` until SIGTERM/SIGINT; an orderly stop returns normally.

    After its graceful shutdown uvicorn restores the handlers it found and raises the signal again
    (status -15). The handlers installed here are the ones it restores: they only note it, and
    `gonogo serve` exits 0. (The app itself bounds the time a request body may take.)"""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        http="h11",
        limit_concurrency=max_connections,  # beyond it, uvicorn answers 503
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers
        timeout_keep_alive=5,
        backlog=2048,
        timeout_graceful_shutdown=grace_seconds,
    )
    original = {
        sig: signal.signal(sig, lambda signum, frame: None) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
