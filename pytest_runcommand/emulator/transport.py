"""A synchronous httpx transport onto an in-process ASGI app.

httpx 0.28's ``ASGITransport`` is async-only. :class:`SyncASGITransport` runs it on an event loop of the calling
thread's own (no thread switch per request), or, when called from code that already runs an event loop, on a
private loop in a background (daemon) thread; so a plain ``httpx.Client`` can talk to the emulator with no socket. Traffic
still flows through ``httpx.ASGITransport``, so vcrpy records it like any other.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["SyncASGITransport", "asgi_client", "loop_running"]


class SyncASGITransport(httpx.BaseTransport):
    """Send each request to ``app`` through ``httpx.ASGITransport`` on a private event loop."""

    def __init__(self, app: Callable[..., Any], *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self._inner = httpx.ASGITransport(app=app, client=client)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._thread_loops: list[asyncio.AbstractEventLoop] = []
        weakref.finalize(self, _close_idle, self._thread_loops)  # a client never closed leaves no loop open

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="runcommand-asgi", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        inner_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=content, extensions=request.extensions
        )

        async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._inner.handle_async_request(inner_request)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        if loop_running():  # called from async code: that loop is busy, so the private thread's loop answers
            status, headers, body = asyncio.run_coroutine_threadsafe(send(), self._get_loop()).result()
        else:  # the usual case: this thread's own loop, no thread switch per request
            status, headers, body = self._thread_loop().run_until_complete(send())
        return httpx.Response(status, headers=headers, content=body, request=request)

    def _thread_loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None or loop.is_closed():
            loop = self._local.loop = asyncio.new_event_loop()
            with self._lock:
                self._thread_loops.append(loop)
        return loop

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            idle = list(self._thread_loops)
        _close_idle(idle)
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()


def _close_idle(loops: list[asyncio.AbstractEventLoop]) -> None:
    for loop in loops:
        if not loop.is_running() and not loop.is_closed():
            loop.close()


def loop_running() -> bool:
    """Whether this thread is running an event loop (called from async code)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def asgi_client(app: Callable[..., Any], *, base_url: str = "http://testserver", **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` bound to ``app`` in-process (close it when done)."""
    return httpx.Client(transport=SyncASGITransport(app), base_url=base_url, **kwargs)
