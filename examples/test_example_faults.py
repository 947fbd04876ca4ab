"""Test your deployment tool's retry and error handling with scripted faults, offline.

``scenarios/throttle.json`` makes the emulator throttle the first write (429, Retry-After 1 s), answer the next two
reads 503, and fail the operation of any run command named ``doomed-*`` with VMAgentStatusCommunicationError (its
provisioningState then reads Failed), as Azure does. The Azure SDK's retry policy should ride out the first two; the
tool must report the third. The same file serves the command line: ``pytest-runcommand emulator --tls --scenario
scenarios/throttle.json``. Answers a fault shaped carry the ``x-runcommand-fault`` header.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIO = Path(__file__).parent / "scenarios" / "throttle.json"
SUB = "00000000-0000-0000-0000-000000000000"


def deploy(compute, vm: str, name: str, script: str) -> str:  # type: ignore[no-untyped-def]
    """The deployment tool under test: run ``script`` on ``vm`` as run command ``name``; one line of outcome."""
    from azure.core.exceptions import HttpResponseError

    commands = compute.virtual_machine_run_commands
    body = {"location": "westus", "properties": {"source": {"script": script}, "timeoutInSeconds": 600}}
    try:
        commands.begin_create_or_update("prod-rg", vm, name, body, polling_interval=0).result()
    except HttpResponseError as error:
        code = error.error.code if error.error is not None else error.status_code
        return f"{name} on {vm}: failed ({code})"
    state = commands.get_by_virtual_machine("prod-rg", vm, name, expand="instanceView").provisioning_state
    return f"{name} on {vm}: {state}"


@pytest.fixture
def compute(runcommand_emulator_server):  # type: ignore[no-untyped-def]
    azure_compute = pytest.importorskip("azure.mgmt.compute")
    runcommand_emulator_server.app.faults.load(SCENARIO)
    return azure_compute.ComputeManagementClient(
        runcommand_emulator_server.credential,
        SUB,
        base_url=runcommand_emulator_server.base_url,
        connection_verify=runcommand_emulator_server.ca_path,
    )


@pytest.mark.runcommand_contract
def test_throttling_and_unavailability_are_ridden_out(compute, runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
    assert deploy(compute, "web-1", "install-agent", "apt-get install -y agent") == "install-agent on web-1: Succeeded"
    injected = [(entry.action, entry.status) for entry in runcommand_emulator_server.app.faults.log]
    assert injected == [("respond", 429), ("respond", 503), ("respond", 503)]


@pytest.mark.runcommand_contract
def test_a_failed_run_command_is_reported(compute, runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
    assert deploy(compute, "web-1", "doomed-1", "systemctl restart agent") == (
        "doomed-1 on web-1: failed (VMAgentStatusCommunicationError)"
    )
    vm = f"/subscriptions/{SUB}/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-1"
    assert runcommand_emulator_server.backend.run_command(vm, "doomed-1").provisioning_state == "Failed"
