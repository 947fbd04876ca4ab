"""A synchronous httpx transport onto an in-process ASGI app.

httpx 0.28's ``ASGITransport`` is async-only. :class:`SyncASGITransport` runs it on an event loop in a
background thread (an anyio blocking portal), so a plain ``httpx.Client`` can talk to the emulator with no
socket. Traffic still flows through ``httpx.ASGITransport``, so vcrpy records it like any other.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

__all__ = ["SyncASGITransport", "asgi_client"]


class SyncASGITransport(httpx.BaseTransport):
    """Send each request to ``app`` through ``httpx.ASGITransport`` on a private event loop."""

    def __init__(self, app: Callable[..., Any], *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self._inner = httpx.ASGITransport(app=app, client=client)
        self._stack = contextlib.ExitStack()
        self._portal: BlockingPortal | None = None
        self._lock = threading.Lock()

    def _get_portal(self) -> BlockingPortal:
        with self._lock:
            if self._portal is None:
                self._portal = self._stack.enter_context(start_blocking_portal())
            return self._portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        inner_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=content, extensions=request.extensions
        )

        async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._inner.handle_async_request(inner_request)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        status, headers, body = self._get_portal().call(send)
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        with self._lock:
            self._portal = None
            self._stack.close()


def asgi_client(app: Callable[..., Any], *, base_url: str = "http://testserver", **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` bound to ``app`` in-process (close it when done)."""
    return httpx.Client(transport=SyncASGITransport(app), base_url=base_url, **kwargs)
