"""A small real HTTP server on loopback for recording tests: it answers what the request asks for.

* the response body is the request body (a careless server echoing every secret back), or the bytes of the
  base64 ``X-Reply-Body`` header;
* ``Content-Type`` and ``Content-Encoding`` are echoed from the request;
* every ``X-Reply-H-<Name>: value`` request header becomes a ``<Name>: value`` response header;
* ``X-Reply-Status`` sets the status (200 by default).

Used in-process (``EchoServer`` as a context manager) and copied into pytester directories.
"""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.headers.get("X-Reply-Body")
        if reply is not None:
            body = base64.b64decode(reply)
        status = int(self.headers.get("X-Reply-Status") or 200)
        self.send_response(status)
        for name in ("Content-Type", "Content-Encoding"):
            if self.headers.get(name) is not None:
                self.send_header(name, self.headers[name])
        for name, value in self.headers.items():
            if name.lower().startswith("x-reply-h-"):
                self.send_header(name[len("x-reply-h-") :], value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _answer


class EchoServer:
    """``with EchoServer() as base_url: ...`` serves on 127.0.0.1 on a free port."""

    def __enter__(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
