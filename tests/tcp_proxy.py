"""Loopback proxies the tests own: one that can go silent, one that breaks HTTP answers on the wire.

`SilenceableProxy` stands between the service and the real Redis. `hang()` makes every connection,
open or new, swallow what it receives and send nothing back: what a Redis stuck on a full disk or
a stopped VM looks like from the client's side. `FaultyHttpProxy` stands before the test Jira.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from types import TracebackType


class SilenceableProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._silent = threading.Event()
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> SilenceableProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()

    def hang(self) -> None:
        """From now on, read everything and answer nothing (connections stay open)."""
        self._silent.set()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self._upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if self._silent.is_set():
                continue  # swallowed: the other side waits for an answer that never comes
            try:
                target.sendall(data)
            except OSError:
                return


class FaultyHttpProxy:
    """A loopback HTTP/1.1 proxy before the test Jira that breaks chosen answers on the wire.

    One request per connection (`Connection: close` both ways). A rule `(method, path regex,
    fault, times)` picks the next matching requests; the others pass through untouched. Faults:
    "cut" (the body stops half-way, short of its Content-Length), "reset" (the connection is
    reset without an answer), "trickle" (the answer one byte at a time, `trickle_gap` apart),
    ("redirect", URL) (a 307 to URL) and ("answer", STATUS, BODY) (that answer instead of
    Jira's). `requests` lists every request seen, as "METHOD path".
    """

    def __init__(self, upstream_port: int, *, trickle_gap: float = 0.005) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._gap = trickle_gap
        self._lock = threading.Lock()
        self._rules: list[list[object]] = []
        self.requests: list[str] = []
        self.trickled: list[tuple[int, int]] = []  # (bytes sent, bytes in the answer) per trickle

    def __enter__(self) -> FaultyHttpProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._listener.close()

    def break_next(
        self, method: str, path_regex: str, fault: str | tuple[str, ...], *, times: int = 1
    ) -> None:
        with self._lock:
            self._rules.append([method, re.compile(path_regex), fault, times])

    def _fault_for(self, method: str, path: str) -> str | tuple[str, ...] | None:
        with self._lock:
            self.requests.append(f"{method} {path}")
            for rule in self._rules:
                rule_method, pattern, fault, times = rule
                if rule_method == method and pattern.search(path) and times > 0:  # type: ignore[attr-defined,operator]
                    rule[3] = times - 1  # type: ignore[operator]
                    return fault  # type: ignore[return-value]
        return None

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            request = _read_request(client)
            if request is None:
                return
            method, path = request.split(b" ", 2)[:2]
            fault = self._fault_for(method.decode(), path.decode().split("?")[0])
            if fault == "reset":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if isinstance(fault, tuple) and fault[0] == "answer":
                status, body = fault[1], fault[2].encode()
                client.sendall(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                return
            if isinstance(fault, tuple):
                client.sendall(
                    f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {fault[1]}\r\n"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
                )
                return
            answer = self._forward(request)
            head, _, body = answer.partition(b"\r\n\r\n")
            try:
                if fault == "cut":
                    client.sendall(head + b"\r\n\r\n" + body[: len(body) // 2])
                elif fault == "trickle":
                    self._trickle(client, head + b"\r\n\r\n", body)
                else:
                    client.sendall(answer)
            except OSError:
                return

    def _trickle(self, client: socket.socket, head: bytes, body: bytes) -> None:
        client.sendall(head)
        sent = 0
        try:
            for byte in range(len(body)):
                client.sendall(body[byte : byte + 1])
                sent += 1
                time.sleep(self._gap)  # the fault itself: a slow answer, not a synchronisation
        finally:
            with self._lock:
                self.trickled.append((sent, len(body)))

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self._upstream) as upstream:
            upstream.sendall(request)
            chunks = []
            while data := upstream.recv(65536):
                chunks.append(data)
        return b"".join(chunks)


def _read_request(client: socket.socket) -> bytes | None:
    """One request, its headers rewritten to `Connection: close`, or None when the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    lengths = [line.split(b":", 1)[1] for line in lines if line.lower().startswith(b"content-length:")]
    length = int(lengths[0]) if lengths else 0
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        body += chunk
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body
