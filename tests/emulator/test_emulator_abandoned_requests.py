"""A request whose body never fully arrives (the client hangs up mid-body) is not carried out: nothing changes, and
no one is answered. A declared length past the body limit is a 413 at once, however many digits it has."""

from __future__ import annotations

import importlib.util
import socket
import time

import httpx
import pytest

from pytest_runcommand.emulator.server import EmulatorServer

PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
AUTH = {"Authorization": "Bearer abandoned-test"}
STACKS = ["h11"] + (
    ["httptools"]
    if importlib.util.find_spec("httptools") is not None and importlib.util.find_spec("uvloop") is not None
    else []
)


def _send_and_hang_up(server: EmulatorServer, head: bytes, body: bytes) -> bytes:
    """Send ``head`` and ``body`` on a raw connection, close it, and return whatever came back before."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + body)
        time.sleep(0.3)
        sock.setblocking(False)
        try:
            answer = sock.recv(65536)
        except BlockingIOError:
            answer = b""
    time.sleep(0.3)  # the server notices the hang-up
    return answer


def _head(method: str, length_header: bytes) -> bytes:
    return (
        (
            f"{method} {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer x\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        + length_header
        + b"\r\n\r\n"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_a_put_cut_short_creates_nothing(stack: str) -> None:
    body = b'{"location": "westus", "properties": {"source": {"script": "ls"}}}'
    with EmulatorServer(tls=False, http=stack) as server:  # type: ignore[arg-type]
        answer = _send_and_hang_up(server, _head("PUT", b"Content-Length: %d" % (len(body) + 10)), body)
        assert answer == b""
        assert httpx.get(server.base_url + PATH, headers=AUTH).status_code == 404
        assert server.app.internal_errors == []


@pytest.mark.parametrize("stack", STACKS)
def test_a_patch_cut_short_changes_nothing(stack: str) -> None:
    with EmulatorServer(tls=False, http=stack) as server:  # type: ignore[arg-type]
        created = httpx.put(
            server.base_url + PATH,
            json={"location": "westus", "properties": {"source": {"script": "ls"}, "timeoutInSeconds": 10}},
            headers=AUTH,
        )
        assert created.status_code == 201
        before = httpx.get(server.base_url + PATH, headers=AUTH).json()
        runs = len(server.backend.executor.runs)
        body = b'{"properties": {"timeoutInSeconds": 777}}'
        _send_and_hang_up(server, _head("PATCH", b"Content-Length: %d" % (len(body) + 50)), body)
        chunked = b'29\r\n{"properties": {"timeoutInSeconds": 778}}\r\n'  # the last chunk never comes
        _send_and_hang_up(server, _head("PATCH", b"Transfer-Encoding: chunked"), chunked)
        after = httpx.get(server.base_url + PATH, headers=AUTH).json()
        assert after == before
        assert len(server.backend.executor.runs) == runs
        assert server.app.internal_errors == []


@pytest.mark.parametrize("length", ["9223372036854775807", "99999999999999999999"])  # longer: h11 refuses it
def test_any_declared_length_past_the_limit_is_a_413_at_once(length: str) -> None:
    with EmulatorServer(tls=False) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(_head("PATCH", f"Content-Length: {length}".encode()))
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert server.app.internal_errors == []
