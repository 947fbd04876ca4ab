"""uvicorn's HTTP parser and event loop: h11 (the default) lets every request reach the emulator; httptools (opt-in,
faster) answers what its parser refuses with uvicorn's plain-text 400. One process holds the state: no workers."""

from __future__ import annotations

import importlib.util
import ssl
import subprocess
import sys

import httpx
import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.emulator.server import EmulatorServer

PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
AUTH = {"Authorization": "Bearer stack-test"}


def test_by_default_an_unknown_method_still_gets_arms_answer() -> None:
    with EmulatorServer(tls=False) as server:
        assert server.http == "h11"
        answer = httpx.request("FOO", server.base_url + PATH, headers=AUTH)
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "MethodNotAllowed"


@pytest.mark.skipif(
    importlib.util.find_spec("httptools") is None or importlib.util.find_spec("uvloop") is None,
    reason="needs httptools and uvloop (pip install httptools uvloop)",
)
def test_httptools_on_uvloop_serves_the_same_answers_and_refuses_what_it_cannot_parse() -> None:
    body = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}
    with (
        EmulatorServer(tls=True, http="httptools", loop="uvloop") as server,
        httpx.Client(verify=ssl.create_default_context(cafile=server.ca_path)) as client,
    ):
        created = client.put(server.base_url + PATH, json=body, headers=AUTH)
        patched = client.patch(server.base_url + PATH, json={"tags": {"a": "b"}}, headers=AUTH)
        unknown = client.request("FOO", server.base_url + PATH, headers=AUTH)
    assert (created.status_code, patched.status_code) == (201, 200)
    assert patched.json()["tags"] == {"a": "b"}
    assert unknown.status_code == 400  # uvicorn's own answer: the emulator never saw the request
    assert unknown.text == "Invalid HTTP request received."


def test_the_command_names_its_stacks_and_says_there_are_no_workers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["emulator", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--http {h11,httptools,auto}" in shown
    assert "--loop {auto,asyncio,uvloop}" in shown
    assert "no --workers" in shown


@pytest.mark.parametrize(
    ("flags", "module"), [(["--http", "httptools"], "httptools"), (["--loop", "uvloop"], "uvloop")]
)
def test_a_stack_that_is_not_installed_is_named_before_anything_is_served(flags: list[str], module: str) -> None:
    """Without the ``fast`` extra (the module's import blocked here): exit 2 naming the module and the install line,
    nothing announced, no traceback."""
    blocked = f"import sys; sys.modules[{module!r}] = None; from pytest_runcommand.cli import main; "
    command = [sys.executable, "-c", blocked + f"sys.exit(main(['emulator', '--port', '0', *{flags!r}]))"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert f"{' '.join(flags)} needs {module}, which is not installed" in done.stderr
    assert 'pip install "pytest-runcommand[fast]"' in done.stderr.splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert "never awaited" not in done.stderr


def test_the_server_refuses_a_stack_that_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)
    with pytest.raises(ModuleNotFoundError, match=r'uvloop is not installed: pip install "pytest-runcommand\[fast\]"'):
        EmulatorServer(tls=False, loop="uvloop")


def _raw(server: EmulatorServer, request: bytes) -> bytes:
    import socket

    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_method_in_another_case_is_not_the_method_and_changes_nothing() -> None:
    body = b'{"location": "westus", "properties": {"source": {"script": "echo hi"}}}'
    with EmulatorServer(tls=False) as server:
        request = (
            f"put {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        answer = _raw(server, request)
        after = httpx.get(server.base_url + PATH, headers=AUTH)
    assert answer.startswith(b"HTTP/1.1 405 ")
    assert b'"MethodNotAllowed"' in answer
    assert after.status_code == 404
