"""Serve the emulator with uvicorn on loopback, over TLS from a throw-away local CA (trustme).

Programmatic use (a background thread)::

    with EmulatorServer(tls=True) as server:
        client = ComputeManagementClient(EmulatorCredential(), SUB, base_url=server.base_url,
                                         connection_verify=server.ca_path)

The CA bundle (PEM) lives in a temporary directory removed by :meth:`EmulatorServer.stop`; pass
``ca_out`` to keep a copy. With ``azure_cli`` (the default) the app also answers the sign-in,
subscription and resource-group requests of the Azure CLI (its identity and resources services);
``server.identity`` is the directory (tenant, service principal) it signs in.

``http`` picks uvicorn's HTTP parser: ``h11`` (the default) lets every request reach the app, so each gets ARM's
answer; ``httptools`` (``pip install httptools``) is faster but refuses what its parser cannot read (an unknown
method such as ``FOO``, some malformed request lines) with uvicorn's plain-text 400 before the app sees it. ``loop``
is uvicorn's event loop (``auto``: uvloop when installed). One process keeps the state: there is no ``workers``.

Over TLS, a plain-HTTP request sent to the port by mistake is answered ``400`` (error code ``PlainHttpOnTlsPort``,
naming the https URL) instead of a connection closed mid-handshake (:mod:`~pytest_runcommand.emulator.tls_port`).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import uvicorn
from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from pytest_runcommand.emulator.app import EmulatorApp
from pytest_runcommand.emulator.asgi import Receive, Scope, Send
from pytest_runcommand.emulator.backend import Backend
from pytest_runcommand.emulator.identity import Directory
from pytest_runcommand.emulator.tls_port import tls_or_plain
from pytest_runcommand.extras import install_line

__all__ = [
    "HTTP_PARSERS",
    "LOOPS",
    "EmulatorServer",
    "HttpParser",
    "Loop",
    "is_loopback",
    "make_certificates",
    "missing_stack_module",
]

HttpParser = Literal["h11", "httptools", "auto"]
Loop = Literal["auto", "asyncio", "uvloop"]
HTTP_PARSERS: tuple[HttpParser, ...] = ("h11", "httptools", "auto")
LOOPS: tuple[Loop, ...] = ("auto", "asyncio", "uvloop")

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
"""Addresses meaning "every interface", and the loopback address the printed URL uses instead."""


def missing_stack_module(http: str, loop: str) -> str | None:
    """The module an explicitly asked-for parser or loop needs and this install lacks (the ``fast`` extra's)."""
    for asked, module in ((http, "httptools"), (loop, "uvloop")):
        if asked == module and importlib.util.find_spec(module) is None:
            return module
    return None


def is_loopback(host: str) -> bool:
    """True for a loopback address or ``localhost`` (only this machine can connect)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_START_TIMEOUT = 20.0


class EmulatorServer:
    """The emulator app behind a real uvicorn server on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        app: EmulatorApp | None = None,
        *,
        backend: Backend | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        ca_out: str | Path | None = None,
        log_level: str = "warning",
        azure_cli: bool = True,
        directory: Directory | None = None,
        http: HttpParser = "h11",
        loop: Loop = "auto",
    ) -> None:
        missing = missing_stack_module(http, loop)
        if missing is not None:
            raise ModuleNotFoundError(f"{missing} is not installed: {install_line('fast')}", name=missing)
        self.app = app or EmulatorApp(backend)
        self.identity: Directory | None = (
            (directory or self.app.directory or Directory.default()) if azure_cli else None
        )
        """Who can sign in through the Azure CLI endpoints (None: run commands only, ``azure_cli=False``)."""
        self.app.directory = self.identity
        self.host = host
        self.port = port
        self.tls = tls
        self.ca_out = Path(ca_out) if ca_out is not None else None
        self.log_level = log_level
        self.http: HttpParser = http
        self.loop: Loop = loop
        self.ca_path: str | None = None
        """Path of the CA bundle (PEM) clients must trust; None without TLS."""
        self._tmpdir: str | None = None
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def backend(self) -> Backend:
        return self.app.backend

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT`` (``http://`` without TLS); a wildcard host (``0.0.0.0``, ``::``) is reached
        through loopback."""
        scheme = "https" if self.tls else "http"
        host = _WILDCARDS.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.port}"

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach the server (its host is a loopback address or ``localhost``)."""
        return is_loopback(self.host)

    # -- set-up -------------------------------------------------------------------------------------

    def _prepare(self) -> uvicorn.Server:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto given explicitly: asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets (else 40 ms delayed-ACK stalls)
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self.port = sock.getsockname()[1]
        http: Any = self.http
        if self.tls:  # TLS set up here, not by uvicorn: a plain-HTTP request on this port is answered, not dropped
            files = self._make_certificates()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(files["ssl_certfile"], files["ssl_keyfile"])
            http = tls_or_plain(import_from_string(HTTP_PROTOCOLS[self.http]), context, self.base_url)
        config = uvicorn.Config(
            self.app,
            # uvicorn's own logging set-up (dictConfig) closes every handler of the process: pytest's --log-file
            # among them, for the rest of the run. Its loggers propagate to the host's handlers instead.
            log_config=None,
            log_level=self.log_level,
            access_log=False,
            server_header=False,
            lifespan="off",
            timeout_keep_alive=60,
            timeout_graceful_shutdown=2,
            http=http,
            loop=self.loop,
            proxy_headers=False,  # the app does what its middleware does, for the requests it concerns
        )
        self.app.forwarded = forwarded_headers(config.forwarded_allow_ips)
        self._server = uvicorn.Server(config)
        return self._server

    def _make_certificates(self) -> dict[str, str]:
        self._tmpdir = tempfile.mkdtemp(prefix="pytest-runcommand-emulator-")
        files = make_certificates(Path(self._tmpdir), self.host)
        self.ca_path = files["ca"]
        if self.ca_out is not None:  # its folder must exist: a typo must not create folders
            try:
                shutil.copyfile(files["ca"], self.ca_out)
            except OSError as error:  # a failed write (ENOSPC) names no file: name the one it was writing
                raise OSError(error.errno, error.strerror or str(error), str(self.ca_out)) from None
            self.ca_path = str(self.ca_out)
        return {"ssl_certfile": files["certfile"], "ssl_keyfile": files["keyfile"]}

    # -- background thread --------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Start serving in a background thread; returns once the server accepts connections."""
        if self._thread is not None:
            return self
        server = self._prepare()
        assert self._socket is not None
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="runcommand-emulator", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator server on {self.base_url} failed to start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and remove the temporary certificates."""
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True  # idle keep-alive (TLS) connections would hold shutdown
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # -- foreground (the CLI) -----------------------------------------------------------------------

    def prepare(self) -> None:
        """Bind the socket and make the certificates, so :attr:`base_url` and :attr:`ca_path` are known."""
        if self._server is None:
            self._prepare()

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C (uvicorn shuts down gracefully), then clean up."""
        self.prepare()
        assert self._server is not None
        assert self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._server = None
            self.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def forwarded_headers(trusted: list[str] | str) -> Callable[[Scope], Awaitable[None]]:
    """What uvicorn's proxy-headers middleware (trusting ``trusted`` clients) does to a request's scope, as one call
    (:attr:`EmulatorApp.forwarded`): the middleware itself, around an app that does nothing."""
    middleware = ProxyHeadersMiddleware(_nothing, trusted_hosts=trusted)  # type: ignore[arg-type]

    async def forwarded(scope: Scope) -> None:
        await middleware(scope, _never, _never)  # type: ignore[arg-type]

    return forwarded


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that does nothing."""


async def _never(*message: Any) -> Any:
    raise AssertionError("the proxy-headers middleware neither receives nor sends")  # pragma: no cover


def make_certificates(directory: Path, host: str = "127.0.0.1") -> dict[str, str]:
    """A throw-away local CA (trustme) and a server certificate for ``host`` and loopback, written to ``directory``:
    ``{"ca": PEM to trust, "certfile": chain, "keyfile": key}`` (uvicorn's ``ssl_certfile`` / ``ssl_keyfile``)."""
    import trustme

    ca = trustme.CA(organization_name="pytest-runcommand emulator")
    names = {host, "127.0.0.1", "localhost", "::1"}
    if host in _WILDCARDS:  # reachable by this machine's name too
        names = (names - {host}) | {socket.gethostname()}
    cert = ca.issue_cert(*sorted(names))
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert_file = directory / "server.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_file), append=True)
    key_file = directory / "server.key"
    cert.private_key_pem.write_to_path(str(key_file))
    return {"ca": str(ca_file), "certfile": str(cert_file), "keyfile": str(key_file)}
