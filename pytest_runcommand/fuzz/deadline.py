"""One deadline per exchange with a URL target: ``--request-timeout`` bounds connect and answer together.

``requests``' timeout bounds each socket read, so a target that drips its answer (a byte every half second: headers
or body) kept a request going for as long as it liked. Here each exchange of a
:class:`~pytest_runcommand.fuzz.session.GuardedSession` runs under a :class:`Deadline`; the sockets it uses (a new
connection as soon as it is made, a kept-alive one when the request is written) are handed to it by the adapter's
connection classes, and one watchdog thread shuts them down when the deadline passes, which ends any read blocked on
them. The session then raises a ``ReadTimeout`` naming the timeout, whatever error the cut read gave (an answer cut
short may even look complete: one delimited by the connection's close).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.poolmanager import pool_classes_by_scheme

__all__ = ["Deadline", "DeadlineAdapter", "exchange_deadline"]


class Deadline:
    """When an exchange must be over, and the sockets to shut down then."""

    __slots__ = ("at", "passed", "seconds", "sockets")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.passed = False
        self.sockets: list[socket.socket] = []

    def attach(self, sock: socket.socket) -> None:
        """Watch ``sock`` (shut down at once if the deadline has passed)."""
        with _WATCHDOG.lock:
            if self.passed:
                _shut(sock)
            else:
                self.sockets.append(sock)

    def fire(self) -> None:
        """The deadline passed: every read on its sockets ends (called with the watchdog's lock held)."""
        self.passed = True
        for sock in self.sockets:
            _shut(sock)
        self.sockets.clear()


def _shut(sock: socket.socket) -> None:
    """Shut the connection down at the OS level (an ``SSLSocket``'s own ``shutdown`` would unwrap it under a reader)."""
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that fires each armed deadline when it passes."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.armed: set[Deadline] = set()
        self.wake = math.inf
        """When the thread wakes next by itself (an earlier deadline wakes it at once)."""
        self.thread: threading.Thread | None = None

    def arm(self, deadline: Deadline) -> None:
        with self.lock:
            self.armed.add(deadline)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="fuzz-request-deadline", daemon=True)
                self.thread.start()
            elif deadline.at < self.wake:
                self.lock.notify()

    def disarm(self, deadline: Deadline) -> None:
        with self.lock:
            self.armed.discard(deadline)

    def _run(self) -> None:
        with self.lock:
            while True:
                now = time.monotonic()
                for deadline in [deadline for deadline in self.armed if deadline.at <= now]:
                    self.armed.discard(deadline)
                    deadline.fire()
                self.wake = min((deadline.at for deadline in self.armed), default=math.inf)
                self.lock.wait(None if self.wake == math.inf else self.wake - now)


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()
"""The deadline of the exchange this thread is in (``deadline``), if any."""


def _forget_parent_watchdog() -> None:
    """A forked worker has no watchdog thread (and maybe a lock its parent held): a fresh one, started on use."""
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


os.register_at_fork(after_in_child=_forget_parent_watchdog)


@contextmanager
def exchange_deadline(seconds: float) -> Iterator[Deadline]:
    """Run one exchange on this thread under a deadline ``seconds`` from now."""
    deadline = Deadline(seconds)
    outer = getattr(_CURRENT, "deadline", None)
    _CURRENT.deadline = deadline
    _WATCHDOG.arm(deadline)
    try:
        yield deadline
    finally:
        _WATCHDOG.disarm(deadline)
        _CURRENT.deadline = outer


def _watch(sock: Any) -> None:
    """Hand ``sock`` to the deadline of this thread's exchange, if there is one."""
    deadline: Deadline | None = getattr(_CURRENT, "deadline", None)
    if deadline is not None and isinstance(sock, socket.socket):
        deadline.attach(sock)


class _WatchedHTTPConnection(HTTPConnection):
    """A connection whose socket the current exchange's deadline watches."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # kept alive from an earlier exchange
            _watch(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    """The TLS one (its handshake is read from the watched socket too)."""


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """``requests``' adapter with connections that :func:`exchange_deadline` watches (a SOCKS proxy's are not)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watched(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        return _watched(super().proxy_manager_for(proxy, **proxy_kwargs))


def _watched(manager: PoolManager) -> PoolManager:
    if manager.pool_classes_by_scheme is pool_classes_by_scheme:  # a SOCKS manager has classes of its own
        manager.pool_classes_by_scheme = _WATCHED_POOLS
    return manager
