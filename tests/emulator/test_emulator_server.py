"""EmulatorServer (background thread, TLS or plain http) and the ``pytest-runcommand emulator`` command."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
from pathlib import Path

import httpx
import pytest
from emulator_command import emulator_command

from pytest_runcommand.cli import main
from pytest_runcommand.emulator.handles import ServedEmulator
from pytest_runcommand.emulator.server import EmulatorServer

SUB = "00000000-0000-0000-0000-000000000000"
PATH = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1"
Q = "?api-version=2024-07-01"
AUTH = {"Authorization": "Bearer test-token"}


def test_tls_server_is_trusted_only_with_its_ca(tmp_path: Path) -> None:
    ca_copy = tmp_path / "ca.pem"
    with EmulatorServer(tls=True, ca_out=ca_copy) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        assert server.ca_path == str(ca_copy)
        trusted = ssl.create_default_context(cafile=server.ca_path)
        with httpx.Client(verify=trusted) as client:
            assert client.get(server.base_url + PATH + Q, headers=AUTH).status_code == 404
        with httpx.Client() as client, pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            client.get(server.base_url + PATH + Q, headers=AUTH)
    assert ca_copy.exists(), "the --ca-out copy outlives the server"


def test_plain_http_server_and_clean_stop() -> None:
    server = EmulatorServer(tls=False).start()
    try:
        assert server.ca_path is None
        response = httpx.put(
            server.base_url + PATH + Q,
            json={"location": "westus", "properties": {"source": {"script": "x"}}},
            headers=AUTH,
        )
        assert response.status_code == 201
        assert response.headers["Azure-AsyncOperation"].startswith(server.base_url + "/subscriptions/")
    finally:
        server.stop()
    with pytest.raises(Exception, match="Connection refused"):
        httpx.get(server.base_url + PATH + Q, headers=AUTH, timeout=2)


def test_port_in_use_is_a_clear_error() -> None:
    with EmulatorServer(tls=False) as first:
        second = EmulatorServer(tls=False, port=first.port)
        with pytest.raises(OSError, match="in use"):
            second.start()


def test_served_fixture_is_reset_between_tests_part_one(runcommand_emulator_server: ServedEmulator) -> None:
    with runcommand_emulator_server.client() as client:
        created = client.put(PATH + Q, json={"location": "westus", "properties": {"source": {"script": "x"}}})
        assert created.status_code == 201
    runcommand_emulator_server.backend.settings.page_size = 1


def test_served_fixture_is_reset_between_tests_part_two(runcommand_emulator_server: ServedEmulator) -> None:
    with runcommand_emulator_server.client() as client:
        assert client.get(PATH + Q).status_code == 404
    assert runcommand_emulator_server.backend.settings.page_size == 50


# -- the command line -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["emulator", "--vm", "/subscriptions/s/nothing"], "--vm /subscriptions/s/nothing: not a virtual machine"),
        (["emulator", "--ca-out", "x.pem"], "--ca-out needs --tls"),
        (["emulator", "--port", "70000"], "--port must be between 0 and 65535"),
    ],
)
def test_cli_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_cli_a_ca_bundle_that_cannot_be_written_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--tls", "--ca-out", "/dev/full"]) == 2
    error = capsys.readouterr().err
    assert "--ca-out /dev/full: cannot write the CA bundle: No space left on device" in error
    assert "cannot listen" not in error


def test_cli_serves_over_tls_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ca_out = tmp_path / "emulator-ca.pem"
    vm = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    with emulator_command("--tls", "--vm", f"{vm}=eastus", "--ca-out", str(ca_out)) as (process, output):
        url = re.search(r"https://127\.0\.0\.1:\d+", output)
        assert url is not None, output
        assert str(ca_out) in output
        trusted = ssl.create_default_context(cafile=str(ca_out))
        with httpx.Client(verify=trusted, base_url=url.group(0), headers=AUTH) as client:
            created = client.put(PATH + Q, json={"location": "westus", "properties": {"source": {"script": "x"}}})
            assert created.status_code == 201
            assert created.json()["location"] == "eastus", "the seeded VM's location"
            ghost = client.get(PATH.replace("vm1", "ghost") + Q)
            assert ghost.json()["error"]["code"] == "ParentResourceNotFound", "--vm turns auto-creation off"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        assert "stopped" in process.stderr.read()


def test_cli_stops_on_sigterm_like_ctrl_c_and_removes_its_key(tmp_path: Path) -> None:
    """``kill``, ``timeout`` and CI send SIGTERM: a clean stop (exit 0, "stopped", the TLS key's folder removed)."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    with emulator_command("--tls", env={"TMPDIR": str(tmpdir)}) as (process, output):
        assert [p.name for p in tmpdir.iterdir() if p.name.startswith("pytest-runcommand-emulator-")], output
        assert any((p / "server.key").is_file() for p in tmpdir.iterdir())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        assert "emulator: stopped" in process.stderr.read()
        assert list(tmpdir.iterdir()) == [], "the temporary folder with the TLS key outlived the server"


@pytest.mark.parametrize("ca_out", ["/proc/ca.pem", "missing-folder/ca.pem"])
def test_cli_names_a_ca_out_it_cannot_write(
    ca_out: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["emulator", "--tls", "--no-azure-cli", "--ca-out", ca_out]) == 2
    err = capsys.readouterr().err
    assert f"--ca-out {Path(ca_out).absolute()}" in err
    assert "cannot listen" not in err
    assert not (tmp_path / "missing-folder").exists(), "a missing folder is an error, not created silently"


def test_cli_prints_a_relative_ca_out_absolute_in_the_cli_snippet(tmp_path: Path) -> None:
    with emulator_command("--tls", "--ca-out", "ca.pem", "--cli-env", "az.env", cwd=tmp_path) as (process, output):
        absolute = str(tmp_path / "ca.pem")
        assert (tmp_path / "ca.pem").is_file()
        assert f"REQUESTS_CA_BUNDLE={absolute}" in output
        snippet = (tmp_path / "az.env").read_text()
        assert absolute in snippet, snippet
        assert not re.search(r"(?<![/\w])ca\.pem", snippet.replace(absolute, "")), snippet
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def test_cli_on_every_interface_warns_and_prints_a_reachable_url() -> None:
    with emulator_command("--host", "0.0.0.0", "--no-azure-cli") as (process, output):
        url = re.search(r"serving Azure run commands at (\S+)", output)
        assert url is not None, output
        assert url.group(1).startswith("http://127.0.0.1:"), output
        with httpx.Client(base_url=url.group(1), headers=AUTH) as client:
            assert client.get(PATH + Q).status_code == 404  # reachable: ResourceNotFound, not a refused connection
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert process.stderr is not None
        err = process.stderr.read()
    assert "WARNING: listening on 0.0.0.0, not loopback: it accepts any bearer token" in err


def test_cli_on_loopback_does_not_warn() -> None:
    with emulator_command("--no-azure-cli") as (process, _):
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        assert "WARNING" not in process.stderr.read()


def test_cli_names_a_file_where_a_folder_must_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 11, finding 1: ``--ca-out afile/ca.pem`` said the folder did not exist, ``--cli-env afile/env.sh``
    said "File exists" (after serving had begun)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    assert main(["emulator", "--tls", "--no-azure-cli", "--ca-out", "afile/ca.pem"]) == 2
    assert f"--ca-out {tmp_path / 'afile' / 'ca.pem'}: {tmp_path / 'afile'} is not a folder" in capsys.readouterr().err
    assert main(["emulator", "--tls", "--cli-env", "afile/env.sh"]) == 2
    err = capsys.readouterr().err
    assert "--cli-env afile/env.sh: afile is not a folder" in err
    assert "emulator: serving" not in err


def test_cli_shows_the_servers_warnings_as_its_own_lines() -> None:
    """Review 12, finding 13: once the server left the host's logging alone, uvicorn's warnings reached the command's
    stderr bare ("Invalid HTTP request received."); they read as the command's lines."""
    with emulator_command("--port", "0") as (process, output):
        found = re.search(r"http://127\.0\.0\.1:(\d+)", output)
        assert found is not None, output
        with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=10) as sock:
            sock.sendall(b"GARBAGE\r\n\r\n")
            sock.recv(200)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        assert "emulator: WARNING: Invalid HTTP request received." in process.stderr.read()


def test_a_websocket_upgrade_is_answered_without_advice_to_install_a_library() -> None:
    """Review 14, finding 11: a client's ``Upgrade: websocket`` made the command print uvicorn's advice to
    ``pip install 'uvicorn[standard]'``; the emulator serves no websocket, and the request is answered as any other."""
    with emulator_command("--port", "0") as (process, output):
        found = re.search(r"http://127\.0\.0\.1:(\d+)", output)
        assert found is not None, output
        upgrade = (
            f"GET {PATH}{Q} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            "Authorization: Bearer t\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=10) as sock:
            sock.sendall(upgrade.encode())
            assert sock.recv(200).startswith(b"HTTP/1.1 404 ")  # the run command does not exist: ARM's answer
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        err = process.stderr.read()
    assert "WebSocket library" not in err
    assert "install" not in err


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_forwarded_headers_from_loopback_are_honoured_as_uvicorns_middleware_does(http: str) -> None:
    """The server runs without uvicorn's proxy-headers middleware; the app does what it did: a trusted client's
    ``X-Forwarded-Proto`` sets the scheme of the URLs it answers, an untrusted value leaves it."""
    pytest.importorskip(http)
    server = EmulatorServer(tls=False, http=http, loop="asyncio").start()  # type: ignore[arg-type]
    try:
        body = {"location": "westus", "properties": {"source": {"script": "x"}}}
        forwarded = {**AUTH, "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.1"}
        answer = httpx.put(server.base_url + PATH + Q, json=body, headers=forwarded)
        assert answer.headers["Azure-AsyncOperation"].startswith("https://127.0.0.1:")
        odd = httpx.put(server.base_url + PATH + Q, json=body, headers={**AUTH, "X-Forwarded-Proto": "gopher"})
        assert odd.headers["Azure-AsyncOperation"].startswith(server.base_url + "/")
        plain = httpx.put(server.base_url + PATH + Q, json=body, headers=AUTH)
        assert plain.headers["Azure-AsyncOperation"].startswith(server.base_url + "/")
    finally:
        server.stop()
