"""Over a real loopback server and raw sockets: a ``Host`` header that is not a host is a 400 that changes nothing
(the emulator's URLs would carry it), and an answer uvicorn can no longer send (it answered a malformed request
pipelined behind it and closes the connection) is dropped without an error in the log."""

from __future__ import annotations

import importlib.util
import json
import logging
import socket
from collections.abc import Iterator

import pytest

from pytest_runcommand.emulator.server import EmulatorServer

RUN_COMMAND = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/{name}?api-version=2024-07-01"
)
CREATE = b'{"location": "westus", "properties": {"source": {"script": "echo hi"}}}'

STACKS = [
    "h11",
    pytest.param(
        "httptools",
        marks=pytest.mark.skipif(importlib.util.find_spec("httptools") is None, reason="needs httptools"),
    ),
]


@pytest.fixture(params=STACKS)
def server(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    with EmulatorServer(tls=False, http=request.param) as running:
        yield running


def _exchange(server: EmulatorServer, data: bytes) -> bytes:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def _request(method: str, target: str, host: str, body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer host-test\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "host", ["x/evil?y#", 'x"><', "user@x", "x:80/a", "127.0.0.1:99999", "localhost:", "x:0", "x:123456"]
)
def test_a_host_header_that_is_not_a_host_is_a_400_and_creates_nothing(server: EmulatorServer, host: str) -> None:
    answer = _exchange(server, _request("PUT", RUN_COMMAND.format(name="rc-host"), host, CREATE))
    assert _status(answer) == 400, answer
    payload = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert payload["error"]["code"] == "InvalidHostHeader"
    assert b"evil" not in answer.partition(b"\r\n\r\n")[0]  # no header carries what was sent
    own = server.base_url.removeprefix("http://")
    assert _status(_exchange(server, _request("GET", RUN_COMMAND.format(name="rc-host"), own))) == 404


@pytest.mark.parametrize(
    "host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "emulator.example", "emulator.example:65535"]
)
def test_a_host_names_the_urls_the_emulator_hands_out(server: EmulatorServer, host: str) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    answer = _exchange(server, _request("PUT", RUN_COMMAND.format(name="rc-ok"), host.format(port=port), CREATE))
    assert _status(answer) in (200, 201), answer
    headers = answer.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert f"azure-asyncoperation: http://{host.format(port=port)}/".lower() in headers


def test_an_answer_uvicorn_can_no_longer_send_is_dropped_quietly(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    own = server.base_url.removeprefix("http://")
    get = _request("GET", RUN_COMMAND.format(name="rc-pipelined"), own).replace(b"Connection: close\r\n", b"")
    malformed = f"PUT / HTTP/1.1\r\nHost: {own}\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n".encode()
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            answer = _exchange(server, get + malformed)  # a 404 then uvicorn's 400, or the 400 alone (httptools)
            assert answer.startswith((b"HTTP/1.1 404", b"HTTP/1.1 400")), answer
            assert b"Invalid HTTP request received." in answer
    assert "Exception in ASGI application" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
