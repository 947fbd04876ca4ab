"""The TLS port answers a plain-HTTP request (400, naming the https URL) instead of closing the connection
mid-handshake, on every server stack; TLS clients are served as before, and nothing a plain request says changes
state (review 14, finding 7)."""

from __future__ import annotations

import importlib.util
import json
import socket
import ssl
import time

import httpx
import pytest

from pytest_runcommand.emulator import tls_port
from pytest_runcommand.emulator.server import EmulatorServer
from pytest_runcommand.emulator.tls_port import PLAIN_HTTP_CODE

PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
AUTH = {"Authorization": "Bearer tls-port-test"}
BODY = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}
_FAST = importlib.util.find_spec("httptools") is not None and importlib.util.find_spec("uvloop") is not None
STACKS = [
    pytest.param(
        http,
        loop,
        marks=pytest.mark.skipif(
            not _FAST and (http, loop) != ("h11", "asyncio"), reason="needs httptools and uvloop (the fast extra)"
        ),
    )
    for http in ("h11", "httptools")
    for loop in ("asyncio", "uvloop")
]


def raw_exchange(server: EmulatorServer, request: bytes) -> bytes:
    """Send ``request`` as it is over plain TCP and read until the server closes the connection."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize(("http", "loop"), STACKS)
def test_plain_http_on_the_tls_port_gets_a_400_naming_the_https_url_and_tls_is_served_as_before(
    http: str, loop: str
) -> None:
    with EmulatorServer(tls=True, http=http, loop=loop) as server:  # type: ignore[arg-type]
        plain = httpx.put(server.base_url.replace("https://", "http://") + PATH, json=BODY, headers=AUTH)
        assert server.backend.vms == [], "a plain request is answered, never carried out"
        with httpx.Client(verify=ssl.create_default_context(cafile=server.ca_path)) as client:
            created = client.put(server.base_url + PATH, json=BODY, headers=AUTH)
            again = client.get(server.base_url + PATH, headers=AUTH)  # the same kept-alive connection
    assert plain.status_code == 400
    assert plain.headers["connection"] == "close"
    assert plain.json()["error"]["code"] == PLAIN_HTTP_CODE
    assert f"Use {server.base_url}." in plain.json()["error"]["message"]
    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json()["properties"]["source"] == {"script": "echo hi"}


def test_a_plain_request_is_read_whole_before_its_answer_and_the_connection_then_closes() -> None:
    """The body it declares is read first: the close that follows the answer is orderly (no reset that could cost the
    client the answer), and a second request on that connection is not served."""
    body = json.dumps(BODY).encode() * 50
    head = f"PATCH {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    with EmulatorServer(tls=True) as server:
        answer = raw_exchange(server, head + body + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 400 Bad Request"
    assert answer.count(b"HTTP/1.1") == 1
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"]["code"] == PLAIN_HTTP_CODE


@pytest.mark.parametrize(
    "sent",
    [b"\x00\x01garbage\r\n\r\n", b"GET / HTTP/1.1\r\n", b"\x16"],
    ids=["binary", "head-cut-short", "one-tls-byte"],
)
def test_a_client_that_stops_early_or_sends_noise_leaves_the_server_serving(sent: bytes) -> None:
    with EmulatorServer(tls=True) as server:
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(sent)
            sock.shutdown(socket.SHUT_WR)
            ended = b""
            while chunk := sock.recv(65536):
                ended += chunk
        with socket.create_connection((server.host, server.port), timeout=10):
            pass  # connected and gone without a byte
        with httpx.Client(verify=ssl.create_default_context(cafile=server.ca_path)) as client:
            served = client.put(server.base_url + PATH, json=BODY, headers=AUTH)
    assert served.status_code == 201
    if sent[:1] != b"\x16":  # anything but a TLS record is answered, however little of a request it is
        assert ended.startswith(b"HTTP/1.1 400 Bad Request")


def test_a_connection_that_never_sends_a_byte_is_closed_after_the_handshake_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tls_port, "HANDSHAKE_SECONDS", 0.3)
    with EmulatorServer(tls=True) as server:
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            started = time.monotonic()
            assert sock.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 5
