"""No test reaches beyond this machine: a connection to anything but loopback fails at once.

An audit hook (PEP 578) sees every `socket.connect` and name lookup in the test process, whoever
makes it (gonogo, requests, redis-py, a test), and refuses anything off the machine before a packet
leaves: a connection to an address outside loopback, or a lookup of a name other than `localhost`.
Unix sockets and loopback addresses (127.0.0.0/8, ::1) pass.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any


class NonLoopbackConnection(ConnectionRefusedError):
    """A test tried to connect outside loopback."""


def is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths, abstract sockets
        return True
    host = str(address[0]).split("%")[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost: it would be looked up and left the machine


def _may_look_up(host: Any) -> bool:
    """A lookup that stays on the machine: no host, `localhost`, or an address (0.0.0.0 to bind, too)."""
    if host is None or host in ("", "localhost", b"localhost"):
        return True
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host).split("%")[0])
    except ValueError:
        return False
    return True


def _refuse_non_loopback(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.getaddrinfo" and not _may_look_up(args[0]):
        raise NonLoopbackConnection(f"tests may not look up {args[0]!r}: only loopback is reachable")
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
            raise NonLoopbackConnection(f"tests may only connect to loopback, not {address!r}")


_installed = False


def install() -> None:
    """Install the hook once per process (audit hooks cannot be removed)."""
    global _installed  # noqa: PLW0603 (one hook per process, whoever asks)
    if not _installed:
        sys.addaudithook(_refuse_non_loopback)
        _installed = True
