"""The TLS port's front: each new connection's first byte says whether it speaks TLS; one that sends plain HTTP instead
is answered (400, naming the https URL to use) rather than dropped mid-handshake.

uvicorn serves the socket without TLS of its own, with :func:`tls_or_plain` as its protocol class. Each new
connection goes on on a duplicate of its socket, the loop's first transport closed before reading a byte (the
duplicate keeps the connection open), and its first byte is peeked at there: nothing is consumed. A TLS record
(``0x16``, a ClientHello) gets the event loop's own TLS layer (``loop.connect_accepted_socket(..., ssl=...)``: asyncio's
or uvloop's, as uvicorn's ``ssl=`` would) under uvicorn's HTTP protocol; anything else is read to the end of its
request head (and its declared body, within bounds) and answered ``400`` with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
from collections.abc import Callable
from typing import Any, cast

__all__ = ["HANDSHAKE_SECONDS", "PLAIN_HTTP_CODE", "plain_http_answer", "tls_or_plain"]

HANDSHAKE_SECONDS = 60.0
"""How long a new connection may stay silent, then take for its TLS handshake (asyncio's default), before it is
closed."""
PLAIN_HTTP_CODE = "PlainHttpOnTlsPort"
"""The error code of :func:`plain_http_answer` (how a client tells it from the API's own 400s)."""
_HEAD_BYTES = 64 * 1024
"""A plain request's head is read up to this size, its declared body up to as much again, before the answer."""
_TLS_HANDSHAKE_RECORD = 0x16


def plain_http_answer(https_url: str) -> bytes:
    """The whole answer to a plain-HTTP request on the TLS port: 400 in ARM's error shape, the connection closed."""
    body = json.dumps(
        {
            "error": {
                "code": PLAIN_HTTP_CODE,
                "message": f"This port speaks HTTPS only: the request was sent as plain HTTP. Use {https_url}.",
            }
        }
    ).encode()
    return (
        b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
    )


def tls_or_plain(protocol_class: type[asyncio.Protocol], context: ssl.SSLContext, https_url: str) -> Any:
    """A protocol class for uvicorn's ``http`` setting: ``protocol_class`` (uvicorn's HTTP protocol) under TLS from
    ``context`` for the connections that start a TLS handshake; plain-HTTP ones answered :func:`plain_http_answer`."""

    class TlsOrPlain(asyncio.Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._inner = protocol_class(*args, **kwargs)
            self._loop = asyncio.get_running_loop()
            self._sock: socket.socket | None = None
            self._timer: asyncio.TimerHandle | None = None

        def connection_made(self, base: asyncio.BaseTransport) -> None:
            transport = cast(asyncio.Transport, base)  # (uvloop's is one without the base class)
            # The connection goes on on a duplicate of the socket, which nothing reads yet; the loop's transport is
            # closed before it reads a byte (its socket closes without ending the connection: the duplicate holds
            # it). uvloop starts reading right after this method, whatever it asked: hence no pause_reading here.
            try:
                self._sock = socket.socket(fileno=os.dup(transport.get_extra_info("socket").fileno()))
            except OSError:
                transport.abort()
                return
            transport.abort()
            self._sock.setblocking(False)
            self._loop.add_reader(self._sock.fileno(), self._first_byte)
            self._timer = self._loop.call_later(HANDSHAKE_SECONDS, self._silent)

        def _first_byte(self) -> None:
            sock = self._sock
            assert sock is not None
            try:
                first = sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                return
            except OSError:
                first = b""
            self._stop_waiting()
            if not first:  # the client went away before sending anything
                sock.close()
            elif first[0] == _TLS_HANDSHAKE_RECORD:  # the TLS layer reads the handshake from its start
                self._loop.create_task(self._serve(sock, lambda: self._inner, context))
            else:
                self._loop.create_task(self._serve(sock, lambda: _PlainRequest(https_url), None))

        async def _serve(
            self, sock: socket.socket, protocol: Callable[[], asyncio.Protocol], tls: ssl.SSLContext | None
        ) -> None:
            try:
                if tls is None:
                    await self._loop.connect_accepted_socket(protocol, sock)
                else:
                    await self._loop.connect_accepted_socket(
                        protocol, sock, ssl=tls, ssl_handshake_timeout=HANDSHAKE_SECONDS
                    )
            except Exception:  # a failed or timed-out handshake, a reset: nothing to answer in a language it speaks
                sock.close()

        def _silent(self) -> None:
            self._timer = None
            self._stop_waiting()
            if self._sock is not None:
                self._sock.close()

        def _stop_waiting(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._sock is not None:
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(self._sock.fileno())

    TlsOrPlain.__qualname__ = TlsOrPlain.__name__ = f"TlsOrPlain[{protocol_class.__name__}]"
    return TlsOrPlain


class _PlainRequest(asyncio.Protocol):
    """A plain-HTTP request on the TLS port: read to the end of its head and its declared body (within bounds), then
    answered once and the connection closed (so that no unread byte turns the close into a reset)."""

    def __init__(self, https_url: str) -> None:
        self._https_url = https_url
        self._transport: asyncio.Transport | None = None
        self._received = bytearray()
        self._needed: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._feed(data, ended=False)

    def eof_received(self) -> bool | None:
        self._feed(b"", ended=True)
        return None

    def _feed(self, data: bytes, *, ended: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._received += data
        if self._needed is None:
            end = self._received.find(b"\r\n\r\n")
            if end < 0 and not ended and len(self._received) < _HEAD_BYTES:
                return
            self._needed = end + 4 + _declared_length(self._received[:end]) if end >= 0 else len(self._received)
        if ended or len(self._received) >= min(self._needed, 2 * _HEAD_BYTES):
            transport.write(plain_http_answer(self._https_url))
            transport.close()


def _declared_length(head: bytes | bytearray) -> int:
    """The ``Content-Length`` a request head declares (0 when none or unreadable; at most :data:`_HEAD_BYTES`)."""
    for line in bytes(head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            with contextlib.suppress(ValueError):
                return max(0, min(int(value.strip()), _HEAD_BYTES))
    return 0
