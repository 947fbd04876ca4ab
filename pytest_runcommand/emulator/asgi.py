"""The small ASGI plumbing the emulator's layers share: message types, reading a body, the base URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from pytest_runcommand.emulator import errors

__all__ = ["Message", "Receive", "Scope", "Send", "base_url", "read_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def read_body(receive: Receive, limit: int, headers: Mapping[str, str] | None = None) -> bytes:
    """The whole request body; 413 as soon as it (or its declared Content-Length) passes ``limit`` bytes."""
    declared = (headers or {}).get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise errors.request_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise errors.request_too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def base_url(scope: Scope, headers: Mapping[str, str]) -> str:
    """``scheme://host[:port]`` as the client addressed the server."""
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"
