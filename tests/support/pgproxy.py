"""A TCP door to the tests' PostgreSQL that a test closes and opens again: the database down
(connections cut, new ones refused) and back, without stopping the server other tests share.

>>> proxy = PgProxy("postgresql://postgres:@/test_1?host=/tmp/pgx")  # doctest: +SKIP
>>> store = PostgresStore(proxy.url)  # doctest: +SKIP
>>> proxy.close()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

__all__ = ["PgProxy"]


class PgProxy:
    """Forwards 127.0.0.1:``port`` to the server's Unix socket while open."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        folder = Path(parse_qs(parts.query)["host"][0])
        self.target = str(next(p for p in folder.glob(".s.PGSQL.*") if p.suffix != ".lock"))
        self.port = 0
        self._listener: socket.socket | None = None
        self._live: list[socket.socket] = []
        self._lock = threading.Lock()
        self.open()
        netloc = f"{parts.username}:{parts.password or ''}@127.0.0.1:{self.port}"
        self.url = urlunsplit(parts._replace(netloc=netloc, query=""))

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Cut every connection and refuse new ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            live, self._live = self._live, []
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._live += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
