"""Odd request targets over a real loopback server and raw sockets, on both of uvicorn's parsers: an encoded slash
(``%2F``) in a name stays in that name (refused as ARM refuses a name it cannot hold, never routed as another path),
and an absolute-form target (``PATCH http://host/subscriptions/... HTTP/1.1``) is served as its path."""

from __future__ import annotations

import importlib.util
import json
import socket
from collections.abc import Iterator

import pytest

from pytest_runcommand.emulator.server import EmulatorServer

GROUP = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
VERSION = "?api-version=2024-07-01"
AUTH = "Bearer target-test"
CREATE = b'{"location": "westus", "properties": {"source": {"script": "echo hi"}}}'

STACKS = [
    "h11",
    pytest.param(
        "httptools",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("httptools") is None, reason="needs httptools (pip install httptools)"
        ),
    ),
]


@pytest.fixture(params=STACKS)
def server(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    with EmulatorServer(tls=False, http=request.param) as running:
        yield running


def _send(server: EmulatorServer, method: str, target: str, body: bytes = b"") -> tuple[int, dict[str, object]]:
    """One request on its own connection: the status and the JSON body (``{}`` when empty)."""
    host, port = server.base_url.removeprefix("http://").split(":")
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {AUTH}\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + b"\r\n" + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), json.loads(payload) if payload else {}


def _error_code(answer: tuple[int, dict[str, object]]) -> tuple[int, object]:
    status, body = answer
    error = body.get("error")
    return status, error.get("code") if isinstance(error, dict) else None


def test_an_encoded_slash_in_a_vm_name_is_an_invalid_name_and_creates_nothing(server: EmulatorServer) -> None:
    put = _send(server, "PUT", f"{GROUP}/virtualMachines/vm%2F1/runCommands/x{VERSION}", CREATE)
    patch = _send(server, "PATCH", f"{GROUP}/virtualMachines/vm%2f1/runCommands/x{VERSION}", b'{"tags": {}}')
    listed = _send(server, "GET", f"{GROUP}/virtualMachines/vm%2F1/runCommands{VERSION}")
    assert _error_code(put) == (400, "InvalidResourceName")
    assert _error_code(patch) == (400, "InvalidResourceName")
    assert _error_code(listed) == (400, "InvalidResourceName")
    assert "vm%2F1" in str(put[1])
    # nothing was made under the path the decoded target spells either
    assert _send(server, "GET", f"{GROUP}/virtualMachines/vm/1/runCommands/x{VERSION}")[0] == 404


def test_an_encoded_slash_in_a_run_command_name_is_an_invalid_name(server: EmulatorServer) -> None:
    put = _send(server, "PUT", f"{GROUP}/virtualMachines/vm1/runCommands/rc%2Fx{VERSION}", CREATE)
    assert _error_code(put) == (400, "InvalidResourceName")
    assert _send(server, "GET", f"{GROUP}/virtualMachines/vm1/runCommands{VERSION}")[1]["value"] == []


def test_encoded_slashes_never_route_a_request_to_another_resource(server: EmulatorServer) -> None:
    created = _send(server, "PUT", f"{GROUP}/virtualMachines/vm1/runCommands/rc1{VERSION}", CREATE)
    assert created[0] == 201
    # decoded, this target is the run command just made; as sent, it is a VM named 'vm1%2FrunCommands%2Frc1'
    got = _send(server, "GET", f"{GROUP}/virtualMachines/vm1%2FrunCommands%2Frc1{VERSION}")
    deleted = _send(server, "DELETE", f"{GROUP}/virtualMachines/vm1%2FrunCommands%2Frc1{VERSION}")
    assert got[0] in (400, 404)
    assert "properties" not in got[1]
    assert deleted[0] in (400, 404, 405)
    assert _send(server, "GET", f"{GROUP}/virtualMachines/vm1/runCommands/rc1{VERSION}")[0] == 200


def test_other_percent_encodings_are_still_decoded(server: EmulatorServer) -> None:
    """``%2D`` is ``-``: the same run command as the plain name (only an encoded slash keeps its encoding)."""
    assert _send(server, "PUT", f"{GROUP}/virtualMachines/vm-1/runCommands/rc-1{VERSION}", CREATE)[0] == 201
    got = _send(server, "GET", f"{GROUP}/virtualMachines/vm%2D1/runCommands/rc%2d1{VERSION}")
    assert got[0] == 200
    assert got[1]["name"] == "rc-1"


def test_an_absolute_form_target_is_served_as_its_path(server: EmulatorServer) -> None:
    origin = server.base_url
    path = f"{GROUP}/virtualMachines/vm1/runCommands/rc1{VERSION}"
    created = _send(server, "PUT", origin + path, CREATE)
    patched = _send(server, "PATCH", origin + path, b'{"tags": {"a": "b"}}')
    got = _send(server, "GET", path)  # origin-form: the same resource
    upper = _send(server, "GET", origin.replace("http://", "HTTP://") + path)
    assert (created[0], patched[0], got[0], upper[0]) == (201, 200, 200, 200)
    assert got[1]["tags"] == {"a": "b"}
    assert str(got[1]["id"]).startswith(GROUP)
    with_slash = _send(server, "GET", f"{origin}{GROUP}/virtualMachines/vm1%2FrunCommands%2Frc1{VERSION}")
    assert with_slash[0] in (400, 404)
    assert "properties" not in with_slash[1]


def test_an_absolute_form_target_of_an_unknown_path_is_arms_404(server: EmulatorServer) -> None:
    assert _error_code(_send(server, "GET", f"{server.base_url}/nothing/here{VERSION}")) == (404, "NotFound")
