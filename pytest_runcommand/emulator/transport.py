"""A synchronous httpx transport onto an in-process ASGI app.

httpx 0.28's ``ASGITransport`` is async-only. :class:`SyncASGITransport` runs it on an event loop in a
background (daemon) thread, so a plain ``httpx.Client`` can talk to the emulator with no socket. Traffic
still flows through ``httpx.ASGITransport``, so vcrpy records it like any other.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["SyncASGITransport", "asgi_client"]


class SyncASGITransport(httpx.BaseTransport):
    """Send each request to ``app`` through ``httpx.ASGITransport`` on a private event loop."""

    def __init__(self, app: Callable[..., Any], *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self._inner = httpx.ASGITransport(app=app, client=client)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

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

        status, headers, body = asyncio.run_coroutine_threadsafe(send(), self._get_loop()).result()
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()


def asgi_client(app: Callable[..., Any], *, base_url: str = "http://testserver", **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` bound to ``app`` in-process (close it when done)."""
    return httpx.Client(transport=SyncASGITransport(app), base_url=base_url, **kwargs)
