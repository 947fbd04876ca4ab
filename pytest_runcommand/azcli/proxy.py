"""A proxy trap: a loopback listener every proxy variable points at, recording who tried to leave loopback."""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["LOOPBACK", "ProxyTrap"]

LOOPBACK = "127.0.0.1,localhost,::1,[::1]"
"""The ``NO_PROXY`` list that keeps loopback traffic direct."""


class ProxyTrap:
    """A loopback TCP listener every proxy variable points at: records who tried to leave, then hangs up."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.attempts: list[str] = []
        """First line of each request sent to the proxy (``CONNECT host:443 HTTP/1.1``)."""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="runcommand-proxy-trap", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = "(nothing sent)"
                with self._lock:
                    self.attempts.append(first or "(nothing sent)")
                with contextlib.suppress(OSError):
                    connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def environment(self) -> dict[str, str]:
        """Proxy variables (both spellings) sending everything but loopback here."""
        env: dict[str, str] = {}
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
            env[name] = env[name.lower()] = self.url
        env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
        return env

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the listening thread
        self._socket.close()
        self._thread.join(timeout=5)
