"""A deliberately broken run-command service, in-process and served on loopback, for the fuzz tests.

It answers like the contract wants except for three faults the fuzzer must find and name:

1. it echoes ``runAsPassword`` back in the resource it returns;
2. it answers 500 to a negative ``timeoutInSeconds``;
3. it answers PATCH with 202 and no ``Location`` / ``Azure-AsyncOperation`` header.

Everything else is right, so the faults are the only findings: requests are checked with the contract engine
(400 CloudError when invalid), run commands are kept in a dict, and a DELETE removes at once (200, or 204).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis.specs.openapi.adapter.v2  # noqa: F401  (see below)
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pytest_runcommand.contract import validate_request

# schemathesis.specs.openapi.adapter.v2 is imported here on purpose: pytester's in-process runs forget the modules
# first imported during them, schemathesis imports its OpenAPI adapters lazily, and a second copy of them breaks its
# isinstance checks in the tests that come after.

RUN_COMMAND = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/"
    "virtualMachines/{vmName}/runCommands/{runCommandName}"
)
RUN_COMMANDS = RUN_COMMAND.rsplit("/", 1)[0]
BROKEN_OPERATIONS = (
    "VirtualMachineRunCommands_CreateOrUpdate",
    "VirtualMachineRunCommands_Update",
    "VirtualMachineRunCommands_GetByVirtualMachine",
    "VirtualMachineRunCommands_Delete",
    "VirtualMachineRunCommands_ListByVirtualMachine",
)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def make_broken_app() -> Starlette:
    """The broken service (a fresh state each call)."""
    store: dict[str, dict[str, Any]] = {}

    def resource(request: Request, properties: dict[str, Any], location: str) -> dict[str, Any]:
        return {
            "id": request.url.path,
            "name": request.path_params["runCommandName"],
            "type": "Microsoft.Compute/virtualMachines/runCommands",
            "location": location,
            "properties": {**properties, "provisioningState": "Succeeded"},
        }

    async def run_command(request: Request) -> Response:
        if not request.headers.get("authorization", "").lower().startswith("bearer "):
            return _error(401, "AuthenticationFailed", "Authentication failed.")
        body = await request.body()
        violations = validate_request(request.method, str(request.url), body or None, dict(request.headers))
        if violations:
            return _error(400, violations[0].code, violations[0].message)
        key = request.url.path.lower()
        if request.method == "DELETE":
            return Response(status_code=200 if store.pop(key, None) is not None else 204)
        if request.method == "GET":
            if key not in store:
                return _error(404, "ResourceNotFound", "The run command was not found.")
            return JSONResponse(store[key])
        sent = json.loads(body)
        properties = sent.get("properties") or {}
        timeout = properties.get("timeoutInSeconds")
        if isinstance(timeout, int) and timeout < 0:
            return _error(500, "InternalServerError", "timeout underflow")  # fault 2
        properties = {k: v for k, v in properties.items() if k != "protectedParameters"}  # runAsPassword kept: fault 1
        if request.method == "PATCH":
            if key not in store:
                return _error(404, "ResourceNotFound", "The run command was not found.")
            merged = {**store[key]["properties"], **properties}
            store[key] = resource(request, merged, store[key]["location"])
            return JSONResponse(store[key], status_code=202)  # fault 3: 202, no polling header
        created = key not in store
        store[key] = resource(request, properties, sent["location"])
        return JSONResponse(store[key], status_code=201 if created else 200)

    async def run_commands(request: Request) -> Response:
        if not request.headers.get("authorization", "").lower().startswith("bearer "):
            return _error(401, "AuthenticationFailed", "Authentication failed.")
        violations = validate_request(request.method, str(request.url), None, dict(request.headers))
        if violations:
            return _error(400, violations[0].code, violations[0].message)
        prefix = request.url.path.lower() + "/"
        return JSONResponse({"value": [value for key, value in store.items() if key.startswith(prefix)]})

    return Starlette(
        routes=[
            Route(RUN_COMMAND, run_command, methods=["GET", "PUT", "PATCH", "DELETE"]),
            Route(RUN_COMMANDS, run_commands, methods=["GET"]),
        ]
    )


@pytest.fixture(scope="session")
def make_broken() -> Callable[[], Starlette]:
    """Makes a fresh broken service (an ASGI app)."""
    return make_broken_app


@pytest.fixture(scope="session")
def broken_operations() -> tuple[str, ...]:
    """The operations the broken service serves."""
    return BROKEN_OPERATIONS


@pytest.fixture
def broken_server() -> Iterator[str]:
    """The broken service served by uvicorn on 127.0.0.1 (plain http); yields its base URL."""
    url, stop = serve(make_broken_app())
    try:
        yield url
    finally:
        stop()


class Listener:
    """A TCP listener on loopback that records every connection's first bytes and answers 502 (a stand-in for a
    proxy or a host that must never be reached)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.seen: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    self.seen.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback listener that must see nothing (see :class:`Listener`)."""
    found = Listener()
    try:
        yield found
    finally:
        found.close()


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (plain http): (base URL, stop)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None: uvicorn's own set-up (dictConfig) would replace the process's handlers, pytest's included,
    # and leave its own holding a stream pytest closes later (a record then prints "--- Logging error ---")
    config = uvicorn.Config(app, log_config=None, log_level="critical", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], str]]:
    """Serves ASGI apps on 127.0.0.1 for the test (each call: a new server, its base URL); stopped after the test."""
    stops: list[Callable[[], None]] = []

    def start(app: Any) -> str:
        url, stop = serve(app)
        stops.append(stop)
        return url

    try:
        yield start
    finally:
        for stop in stops:
            stop()
