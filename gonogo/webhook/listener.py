"""The service's edge towards the network: its socket, its descriptors, slow clients and signals.

What a hostile or unlucky network does to a server that trusts it: a port already taken (uvicorn
would log and exit without saying what to do), connections that send half their headers and wait
(each holds a descriptor forever, and at the default limit of 1024 the service stops accepting),
and SIGTERM (uvicorn re-raises it after a clean shutdown, so the exit status says "killed").
Each is handled here, once, through uvicorn's public `Config` and `Server` and asyncio's public
`Protocol` contract: nothing reads or overrides uvicorn's internals.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import threading
from types import FrameType
from typing import Any

import uvicorn

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


def protocol_with_deadline(inner: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """`inner` (uvicorn's HTTP protocol), closing a connection whose request headers are not all
    in after `seconds`.

    uvicorn times out idle keep-alive connections, but not a new one that sends part of its
    headers and waits: enough of those exhaust the descriptors. This wrapper sees only the bytes
    and the transport, through asyncio's public `Protocol` contract, and hands everything on to
    `inner` as it came; it needs nothing of uvicorn's beyond `Config(http=<protocol class>)`.
    Once the blank line ending the first request's headers has arrived, the connection is the
    application's (which bounds the body with the same deadline) and uvicorn's keep-alive timeout.
    """

    class DeadlineProtocol(asyncio.Protocol):
        def __init__(self, **kwargs: Any) -> None:
            self._inner = inner(**kwargs)
            self._transport: asyncio.BaseTransport | None = None
            self._deadline: asyncio.TimerHandle | None = None
            self._tail = b""  # the last bytes seen, so a header end split across reads is found

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self._transport = transport
            self._inner.connection_made(transport)
            no_delay(transport)
            self._deadline = asyncio.get_running_loop().call_later(seconds, self._close_if_no_request)

        def data_received(self, data: bytes) -> None:
            if self._deadline is not None:
                seen = self._tail + data
                if _HEADERS_END in seen:
                    self._stop_deadline()
                else:
                    self._tail = seen[-(len(_HEADERS_END) - 1) :]
            self._inner.data_received(data)

        def eof_received(self) -> bool | None:
            return self._inner.eof_received()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_deadline()
            self._inner.connection_lost(exc)

        def pause_writing(self) -> None:
            self._inner.pause_writing()

        def resume_writing(self) -> None:
            self._inner.resume_writing()

        def _stop_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _close_if_no_request(self) -> None:
            self._deadline = None
            if self._transport is not None and not self._transport.is_closing():
                self._transport.close()

    return DeadlineProtocol


_HEADERS_END = b"\r\n\r\n"


def uvicorn_protocol(name: str) -> type[asyncio.Protocol]:
    """The protocol class uvicorn itself would use for `http=name`, asked through its public `Config`."""
    probe = uvicorn.Config(_no_app, http=name, log_config=None, lifespan="off")
    probe.load()
    return probe.http_protocol_class


async def _no_app(scope: Any, receive: Any, send: Any) -> None:  # only `uvicorn_protocol` loads it
    raise RuntimeError("not served")


def serve(config: uvicorn.Config, listening: socket.socket) -> None:
    """Run uvicorn on `listening` until SIGTERM/SIGINT; an orderly stop by signal returns normally.

    uvicorn catches the signals while it runs, shuts down gracefully, restores the handlers it
    found and then raises the signal again, so that the process ends as the signal's default
    would (killed by SIGTERM: status -15). Handlers installed here, before it starts, are the
    ones it restores: the re-raised signal only notes that it came, and `gonogo serve` returns
    and exits 0. Signals reach the main thread only; elsewhere nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        uvicorn.Server(config).run(sockets=[listening])
        return
    handled = (signal.SIGINT, signal.SIGTERM)
    original = {sig: signal.signal(sig, _stopped_by_signal) for sig in handled}
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)


def _stopped_by_signal(signum: int, frame: FrameType | None) -> None:
    """The signal uvicorn raises again after its graceful shutdown: already handled, nothing to do."""


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
        http=protocol_with_deadline(uvicorn_protocol("h11"), request_timeout),
        limit_concurrency=max_connections,
        timeout_keep_alive=5,
        backlog=2048,
        timeout_graceful_shutdown=grace_seconds,
    )
