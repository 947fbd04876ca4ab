"""The served emulator works under pytest-recording's --block-network with no other option; the rest stays blocked."""

from __future__ import annotations

import importlib.util
import socket

import pytest

from pytest_runcommand.pytest.loopback import exempt, served_address

SUITE = """
import socket

import httpx
import pytest
import requests

BODY = {"location": "westus", "properties": {"source": {"script": "ls"}}}

@pytest.mark.runcommand_contract
def test_httpx_and_requests_reach_the_served_emulator(runcommand_emulator_server):
    server = runcommand_emulator_server
    url = server.url(server.run_command_path("rc1"))
    with server.client() as client:
        assert client.put(url, json=BODY).status_code == 201
    token = server.credential.get_token().token
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=server.ca_path)
    assert answer.status_code == 200

def test_the_sdk_reaches_the_served_emulator(runcommand_emulator_server):
    compute = pytest.importorskip("azure.mgmt.compute")
    server = runcommand_emulator_server
    client = compute.ComputeManagementClient(server.credential, "00000000-0000-0000-0000-000000000000",
                                             base_url=server.base_url, connection_verify=server.ca_path)
    poller = client.virtual_machine_run_commands.begin_create_or_update(
        "rg", "vm1", "rc1", {"location": "westus", "properties": {"source": {"script": "ls"}}}, polling_interval=0)
    assert poller.result().provisioning_state == "Succeeded"

def test_other_hosts_and_ports_stay_blocked(runcommand_emulator_server):
    port = int(runcommand_emulator_server.base_url.rsplit(":", 1)[1])
    for address in (("10.255.255.1", 443), ("127.0.0.1", port + 1 if port < 65535 else port - 1)):
        with socket.socket() as sock, pytest.raises(RuntimeError, match="Network is disabled"):
            sock.connect(address)

def test_without_the_served_emulator_loopback_is_blocked():
    with socket.socket() as sock, pytest.raises(RuntimeError, match="Network is disabled"):
        sock.connect(("127.0.0.1", 9))
"""


def test_block_network_alone_lets_the_served_emulator_through(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_blocked=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--block-network")
    try:
        sdk = importlib.util.find_spec("azure.mgmt.compute") is not None
    except ModuleNotFoundError:  # no azure namespace at all
        sdk = False
    result.assert_outcomes(passed=4 if sdk else 3, skipped=0 if sdk else 1)


def test_the_guard_is_back_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_order="""
import socket
import pytest

def test_served(runcommand_emulator_server):
    pass

def test_after():
    assert socket.socket.connect.__name__ == "network_guard"
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--block-network").assert_outcomes(passed=2)


def test_exempt_lets_exactly_one_address_through_and_undoes() -> None:
    from pytest_recording import network

    with network.blocking_context(), socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        undo = exempt(("127.0.0.1", port))
        with socket.socket() as client:
            client.connect(("127.0.0.1", port))
        with socket.socket() as client, pytest.raises(RuntimeError, match="Network is disabled"):
            client.connect(("127.0.0.2", port))
        undo()
        assert socket.socket.connect.__name__ == "network_guard"
        with socket.socket() as client, pytest.raises(RuntimeError, match="Network is disabled"):
            client.connect(("127.0.0.1", port))
    original = socket.socket.connect
    exempt(("127.0.0.1", 1))()  # nothing blocks: nothing to add
    assert socket.socket.connect is original


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://127.0.0.1:8443", ("127.0.0.1", 8443)),
        ("https://localhost:1", ("localhost", 1)),
        ("https://[::1]:9000", ("::1", 9000)),
        ("https://management.azure.com", None),
        ("https://10.0.0.1:443", None),
        ("http://testserver", None),
    ],
)
def test_only_a_loopback_address_with_a_port_is_exempted(base_url: str, expected: tuple[str, int] | None) -> None:
    assert served_address(base_url) == expected


def test_a_served_emulator_shared_wider_than_a_test_stays_reachable(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from pytest_runcommand.emulator import EmulatorCredential, ServedEmulator

@pytest.fixture(scope="session")
def runcommand_emulator_server(runcommand_emulator_session_server):
    server = runcommand_emulator_session_server
    return ServedEmulator(app=server.app, base_url=server.base_url, server=server, credential=EmulatorCredential())
"""
    )
    pytester.makepyfile(
        test_shared="""
import pytest

@pytest.mark.parametrize("name", ["rc1", "rc2", "rc3"])
def test_put(runcommand_emulator_server, name):
    server = runcommand_emulator_server
    with server.client() as client:
        body = {"location": "westus", "properties": {"source": {"script": "ls"}}}
        assert client.put(server.url(server.run_command_path(name)), json=body).status_code == 201
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--block-network").assert_outcomes(passed=3)
