"""The service's edge towards the network: its socket, its descriptors, slow clients and signals.

What a hostile or unlucky network does to a server that trusts it: a port already taken (uvicorn
would log and exit without saying what to do), connections that send half their headers and wait
(each holds a descriptor forever, and at the default limit of 1024 the service stops accepting),
and SIGTERM (uvicorn re-raises it after a clean shutdown, so the exit status says "killed").
Each is handled here, once, around uvicorn's public `Config` and `Server`.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gonogo.core.errors import ConfigurationError

# When the hard limit is "unlimited", the soft limit is raised this far (Linux refuses infinity).
_NOFILE_WHEN_UNLIMITED = 65536


def raise_descriptor_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the limit now in force.

    The default soft limit (1024) is far below what the hard limit allows, and every connection,
    SQLite file and Redis socket takes a descriptor. Raising it needs no privilege.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _NOFILE_WHEN_UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass  # a container may forbid it; the service still runs at the old limit
    return int(soft)


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket before uvicorn starts, so a taken port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({_reason(exc)}): stop what "
            "uses that port, or choose another with --port or [webhook].port"
        ) from None


def _reason(error: OSError) -> str:
    """The system's words for an error, without the call details Python adds to them."""
    return os.strerror(error.errno) if error.errno else error.__class__.__name__


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send each write at once (TCP_NODELAY) on a connection to our own listening socket.

    uvicorn writes an answer's headers and its body separately. asyncio turns Nagle's algorithm
    off only for sockets it believes are TCP by their `proto` field, and a socket from
    `socket.create_server` (see `listen`) has proto 0, so Nagle held every body back until the
    client acknowledged the headers, and the client's delayed ACK made that ~40 ms: issue 14b
    measured a steady 48 ms p50 for acknowledgements the service had answered in 3 ms.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def protocol_with_deadline(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection that has not sent a whole request in `seconds`.

    uvicorn times out idle keep-alive connections, but not a new one that sends part of its
    headers and waits: enough of those exhaust the descriptors. Once a request has arrived, the
    connection is the application's (which bounds the body with the same deadline).
    """

    class DeadlineProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            no_delay(transport)
            self.loop.call_later(seconds, self.close_if_no_request)

        def close_if_no_request(self) -> None:
            if self.cycle is None and not self.transport.is_closing():
                self.transport.close()

    return DeadlineProtocol


class Server(uvicorn.Server):
    """uvicorn's server, but a SIGTERM or SIGINT that shut it down cleanly ends it with status 0.

    uvicorn re-raises the signal after its graceful shutdown, so a supervisor saw "killed by
    SIGTERM" (-15) for an orderly stop.
    """

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only; whoever runs us there handles them
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def server_config(
    app: Any, *, host: str, port: int, max_connections: int, request_timeout: float, grace_seconds: int
) -> uvicorn.Config:
    """uvicorn's settings for the service (the app's own deadline covers the request body)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        http=protocol_with_deadline(request_timeout),
        limit_concurrency=max_connections,
        timeout_keep_alive=5,
        backlog=2048,
        timeout_graceful_shutdown=grace_seconds,
    )
