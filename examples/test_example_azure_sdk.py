"""Drive the served emulator (real TLS on 127.0.0.1) with the Azure SDK for Python, unchanged but for base_url.

``runcommand_emulator_server`` gives the base URL, the CA bundle to trust and a credential the SDK accepts; the
marker validates every request the SDK sends and every answer it gets, LRO polling included, at the api-version
the SDK sends (its own default here; pin one with ``api_version=``).
"""

from __future__ import annotations

import pytest

from pytest_runcommand.emulator import ServedEmulator

azure_compute = pytest.importorskip("azure.mgmt.compute")

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@pytest.mark.runcommand_contract
def test_update_a_run_command_with_the_sdk(runcommand_emulator_server: ServedEmulator) -> None:
    client = azure_compute.ComputeManagementClient(
        runcommand_emulator_server.credential,
        SUBSCRIPTION,
        base_url=runcommand_emulator_server.base_url,
        connection_verify=runcommand_emulator_server.ca_path,
    )
    commands = client.virtual_machine_run_commands
    commands.begin_create_or_update(
        "rg",
        "vm1",
        "patch-os",
        {"location": "westus", "properties": {"source": {"script": "Write-Host hi", "scriptShell": "Powershell7"}}},
        polling_interval=0,
    ).result()

    updated = commands.begin_update(
        "rg",
        "vm1",
        "patch-os",
        {"properties": {"runAsUser": "ops", "runAsPassword": "never-returned", "timeoutInSeconds": 600}},
        polling_interval=0,
    ).result()

    assert updated.provisioning_state == "Succeeded"
    assert updated.run_as_user == "ops"
    assert updated.run_as_password is None
    assert updated.source.script_shell == "Powershell7"
    assert updated.system_data.last_modified_at >= updated.system_data.created_at


@pytest.mark.runcommand_contract
def test_pinned_to_an_api_version(runcommand_emulator_server: ServedEmulator) -> None:
    client = azure_compute.ComputeManagementClient(
        runcommand_emulator_server.credential,
        SUBSCRIPTION,
        base_url=runcommand_emulator_server.base_url,
        connection_verify=runcommand_emulator_server.ca_path,
    )
    created = client.virtual_machine_run_commands.begin_create_or_update(
        "rg",
        "vm1",
        "patch-os",
        {"location": "westus", "properties": {"source": {"commandId": "RunShellScript"}}},
        api_version="2024-07-01",
        polling_interval=0,
    ).result()
    assert created.source.command_id == "RunShellScript"
    assert created.system_data is None, "2024-07-01 answers carry no systemData"


@pytest.mark.runcommand_contract
def test_invoke_the_action_run_command_with_the_sdk(runcommand_emulator_server: ServedEmulator) -> None:
    """``virtual_machines.begin_run_command`` (what ``az vm run-command invoke`` calls): 202, polled, the result."""
    client = azure_compute.ComputeManagementClient(
        runcommand_emulator_server.credential,
        SUBSCRIPTION,
        base_url=runcommand_emulator_server.base_url,
        connection_verify=runcommand_emulator_server.ca_path,
    )
    result = client.virtual_machines.begin_run_command(
        "rg",
        "vm1",
        azure_compute.models.RunCommandInput(command_id="RunShellScript", script=["echo ready"]),
        polling_interval=0,
    ).result()

    (status,) = result.value
    assert status.code == "ProvisioningState/succeeded"
    assert status.message == "Enable succeeded: \n[stdout]\nready\n\n[stderr]\n"
