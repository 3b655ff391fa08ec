"""The conftest guard: a connection outside loopback fails before it leaves; loopback still works."""

from __future__ import annotations

import socket

import pytest
import requests
from loopback_guard import NonLoopbackConnection


@pytest.mark.parametrize("address", [("192.0.2.10", 443), ("2001:db8::1", 443)])
def test_a_connection_outside_loopback_is_refused(address: tuple[str, int]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(NonLoopbackConnection):
        sock.connect(address)


def test_looking_up_a_name_other_than_localhost_is_refused() -> None:
    with pytest.raises(NonLoopbackConnection):
        socket.getaddrinfo("example.com", 443)
    assert socket.getaddrinfo("localhost", 80)  # the machine's own name still resolves


def test_requests_to_another_host_fail_too() -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get("http://192.0.2.10/", timeout=5)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            accepted, _ = server.accept()
            accepted.close()
