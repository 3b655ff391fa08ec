"""A loopback TCP proxy that can go silent: a server that accepts and reads but never answers.

Stands between the service and the real Redis. `hang()` makes every connection, open or new,
swallow what it receives and send nothing back: what a Redis stuck on a full disk or a stopped
VM looks like from the client's side.
"""

from __future__ import annotations

import socket
import threading
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
