"""Let this process reach a server the plugin serves on loopback while pytest-recording blocks the network.

pytest-recording's ``--block-network`` replaces ``socket.socket.connect`` / ``connect_ex`` with a guard for the
duration of each test (``pytest_recording.network.block_socket``; checked against pytest-recording 0.13-0.15), so
the served emulator's own clients (the Azure SDK, httpx) would need ``--allowed-hosts=127.0.0.1``. While a test
uses the served emulator, :func:`exempt` puts a thin layer over whatever ``connect`` is installed: a connection to
exactly the served address goes through, anything else meets the guard as before. Only that host and port are
exempt, so the rest of the network stays blocked.
"""

from __future__ import annotations

import _socket
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["exempt", "served_address"]

_ORIGINAL_CONNECT = _socket.socket.connect
_ORIGINAL_CONNECT_EX = _socket.socket.connect_ex
"""The C implementation ``socket.socket`` inherits: what any guard replaced, whenever this module was imported."""


def served_address(base_url: str) -> tuple[str, int] | None:
    """(host, port) of a loopback base URL; None for any other host."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if host not in ("127.0.0.1", "::1", "localhost") or parts.port is None:
        return None
    return host, parts.port


def exempt(address: tuple[str, int]) -> Callable[[], None]:
    """Let ``connect`` to ``address`` through whatever guard is installed now; returns the undo."""
    guarded_connect = socket.socket.connect
    guarded_connect_ex = socket.socket.connect_ex
    if guarded_connect is _ORIGINAL_CONNECT and guarded_connect_ex is _ORIGINAL_CONNECT_EX:
        return _nothing  # nothing blocks

    def matches(target: Any) -> bool:
        return isinstance(target, tuple) and len(target) >= 2 and (target[0], target[1]) == address

    def connect(self: socket.socket, target: Any, *args: Any, **kwargs: Any) -> Any:
        if matches(target):
            return _ORIGINAL_CONNECT(self, target)
        return guarded_connect(self, target, *args, **kwargs)

    def connect_ex(self: socket.socket, target: Any, *args: Any, **kwargs: Any) -> Any:
        if matches(target):
            return _ORIGINAL_CONNECT_EX(self, target)
        return guarded_connect_ex(self, target, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]

    def undo() -> None:
        # the guard's own teardown may have restored the originals already: then there is nothing of ours left
        if socket.socket.connect is connect:
            socket.socket.connect = guarded_connect  # type: ignore[method-assign]
        if socket.socket.connect_ex is connect_ex:
            socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]

    return undo


def _nothing() -> None:
    return None
