"""One traffic check: the recorder's exchanges plus a vcr cassette's, each exchange checked and counted once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RECORDED = """
import pytest

@pytest.mark.vcr
@pytest.mark.runcommand_contract
def test_put_then_patch(runcommand_emulator):
    client = runcommand_emulator.client
    url = runcommand_emulator.run_command_path("rc1")
    assert client.put(url, json={"location": "westus", "properties": {"source": {"script": "ls"}}}).status_code == 201
    assert client.patch(url, json={"properties": {"timeoutInSeconds": 30}}).status_code == 200
"""

CASSETTE = Path("cassettes") / "test_recorded" / "test_put_then_patch.yaml"


def _record(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_recorded=RECORDED)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once").assert_outcomes(passed=1)
    cassette = pytester.path / CASSETTE
    assert cassette.is_file()
    return cassette


def test_a_replayed_exchange_is_counted_once(pytester: pytest.Pytester) -> None:
    _record(pytester)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--record-mode=none", "--block-network", "--runcommand-report", "r.json"
    )
    result.assert_outcomes(passed=1)
    operations = json.loads((pytester.path / "r.json").read_text())["operations"]
    assert operations["VirtualMachineRunCommands_CreateOrUpdate"]["calls"] == 1
    assert operations["VirtualMachineRunCommands_Update"]["calls"] == 1


def test_a_violation_in_a_replayed_cassette_fails_the_marked_test_once(pytester: pytest.Pytester) -> None:
    cassette = _record(pytester)
    text = cassette.read_text()
    assert text.count('"provisioningState":"Updating"') == 1
    cassette.write_text(
        text.replace('"provisioningState":"Updating"', '"provisioningState":"Updating","runAsPassword":"hunter2"')
    )
    # -rN: no short summary (under CI=true pytest prints the whole message there again, untruncated)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none", "--block-network", "-rN")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolationError: run-command traffic broke the contract in 1 of 2 interaction(s):*",
            "*PATCH http://testserver/subscriptions/*/runCommands/rc1?api-version=* -> 200 (test_put_then_patch.yaml#1)*",
            "*[[]response] SECRET_PROPERTY at /properties/runAsPassword*",
        ]
    )
    assert result.stdout.str().count("SECRET_PROPERTY at /properties/runAsPassword") == 1
    assert "hunter2" not in result.stdout.str()


def test_traffic_outside_the_cassette_is_still_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ignored="""
import json
import httpx
import pytest

URL = ("https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
       "/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01")

def echo(request):
    body = json.loads(request.content)
    return httpx.Response(200, json={"name": "rc", "location": "westus", "properties": {**body["properties"]}})

@pytest.fixture
def vcr_config():
    return {"ignore_hosts": ["management.azure.com"]}

@pytest.mark.vcr
@pytest.mark.runcommand_contract
def test_mock_transport_not_recorded():
    client = httpx.Client(transport=httpx.MockTransport(echo))
    assert client.patch(URL, json={"properties": {"runAsPassword": "hunter2"}}).status_code == 200
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*in 1 of 1 interaction(s)*", "*[[]response] SECRET_PROPERTY at /properties/runAsPassword*"]
    )
    assert "hunter2" not in result.stdout.str()


def test_recording_against_the_served_emulator_counts_each_exchange_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_served="""
import pytest

@pytest.mark.vcr
@pytest.mark.runcommand_contract
def test_put_then_get(runcommand_emulator_server):
    server = runcommand_emulator_server
    url = server.url(server.run_command_path("rc1"))
    with server.client() as client:
        assert client.put(url, json={"location": "westus", "properties": {"source": {"script": "ls"}}}).status_code == 201
        assert client.get(url).status_code == 200
"""
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--record-mode=once", "--block-network", "--runcommand-report", "r.json"
    )
    result.assert_outcomes(passed=1)
    assert (pytester.path / "cassettes" / "test_served" / "test_put_then_get.yaml").is_file()
    operations = json.loads((pytester.path / "r.json").read_text())["operations"]
    assert operations["VirtualMachineRunCommands_CreateOrUpdate"]["calls"] == 1  # client, server and cassette saw it
    assert operations["VirtualMachineRunCommands_GetByVirtualMachine"]["calls"] == 1
