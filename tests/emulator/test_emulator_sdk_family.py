"""The real Azure SDK (azure-mgmt-compute) runs the rest of the run-command family against the served TLS emulator:
the action run command on a VM and on a scale-set VM, the location catalogue, and diagnostic run commands."""

from __future__ import annotations

import pytest

from pytest_runcommand.contract import facts
from pytest_runcommand.emulator.executor import Outcome
from pytest_runcommand.emulator.handles import ServedEmulator

pytest.importorskip("azure.mgmt.compute")

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import RunCommandInput, RunCommandInputParameter

SUB = facts.ZERO_SUBSCRIPTION_ID
DIAGNOSTIC_VERSION = facts.versions_with("VirtualMachineDiagnosticRunCommands_CreateOrUpdate")[-1]


def compute_client(emulator: ServedEmulator) -> ComputeManagementClient:
    return ComputeManagementClient(
        emulator.credential, SUB, base_url=emulator.base_url, connection_verify=emulator.ca_path
    )


@pytest.mark.parametrize("api_version", [None, facts.DEFAULT_API_VERSION, "2020-06-01"])
def test_begin_run_command_on_a_vm(runcommand_emulator_server: ServedEmulator, api_version: str | None) -> None:
    runcommand_emulator_server.backend.settings.lro_polls = 1
    pinned = {} if api_version is None else {"api_version": api_version}
    vms = compute_client(runcommand_emulator_server).virtual_machines
    result = vms.begin_run_command(
        "rg",
        "vm1",
        RunCommandInput(command_id="RunShellScript", script=["echo hello from the sdk"]),
        polling_interval=0,
        **pinned,
    ).result()
    (status,) = result.value
    assert status.code == "ProvisioningState/succeeded"
    assert status.message == "Enable succeeded: \n[stdout]\nhello from the sdk\n\n[stderr]\n"
    assert runcommand_emulator_server.executor.runs[-1].script == "echo hello from the sdk"


def test_begin_run_command_on_a_scale_set_vm_windows(runcommand_emulator_server: ServedEmulator) -> None:
    runcommand_emulator_server.executor.register(
        Outcome.failure(1, output="out", error="warned"), command_id="RunPowerShellScript"
    )
    vmss_vms = compute_client(runcommand_emulator_server).virtual_machine_scale_set_vms
    result = vmss_vms.begin_run_command(
        "rg",
        "ss1",
        "0",
        RunCommandInput(
            command_id="RunPowerShellScript",
            script=["param($first)", "Write-Host $first"],
            parameters=[RunCommandInputParameter(name="first", value="var1")],
        ),
        polling_interval=0,
    ).result()
    assert [(s.code, s.message) for s in result.value] == [
        ("ComponentStatus/StdOut/succeeded", "out"),
        ("ComponentStatus/StdErr/succeeded", "warned"),
    ]
    run = runcommand_emulator_server.executor.runs[-1]
    assert run.parameters == (("first", "var1"),)
    assert run.resource_id.endswith("/virtualMachineScaleSets/ss1/virtualMachines/0/runCommand")


def test_the_catalogue_list_and_get(runcommand_emulator_server: ServedEmulator) -> None:
    catalogue = compute_client(runcommand_emulator_server).virtual_machine_run_commands
    listed = {doc.id: doc.os_type for doc in catalogue.list("westus")}
    assert listed["RunShellScript"] == "Linux"
    assert listed["RunPowerShellScript"] == "Windows"
    document = catalogue.get("westus", "RunShellScript")
    assert document.script == ["echo This is a sample script", "echo Optional parameters: $0 $1"]
    assert [(p.name, p.type, p.required) for p in document.parameters] == [
        ("arg1", "string", False),
        ("arg2", "string", False),
    ]
    with pytest.raises(ResourceNotFoundError):
        catalogue.get("westus", "NoSuchCommand")


def test_diagnostic_run_command_lifecycle(runcommand_emulator_server: ServedEmulator) -> None:
    runcommand_emulator_server.backend.settings.lro_polls = 1
    client = compute_client(runcommand_emulator_server)
    diagnostic = client.virtual_machine_diagnostic_run_commands
    body = {"location": "westus", "properties": {"source": {"script": "echo diagnosed"}}}
    # azure-mgmt-compute 39 types these pollers LROPoller[None]: the result is read with a GET
    assert diagnostic.begin_create_or_update("rg", "vm1", "d1", body, polling_interval=0).result() is None
    created = diagnostic.get_by_virtual_machine("rg", "vm1", "d1")
    assert created.properties.provisioning_state == "Succeeded"
    assert created.type == "Microsoft.Compute/virtualMachines/diagnosticRunCommands"
    patch = {"properties": {"timeoutInSeconds": 60}, "tags": {"k": "v"}}
    diagnostic.begin_update("rg", "vm1", "d1", patch, polling_interval=0).result()
    updated = diagnostic.get_by_virtual_machine("rg", "vm1", "d1")
    assert updated.properties.timeout_in_seconds == 60
    assert updated.tags == {"k": "v"}
    assert updated.properties.source.script == "echo diagnosed"
    read = diagnostic.get_by_virtual_machine("rg", "vm1", "d1", expand="instanceView")
    assert read.properties.instance_view.output == "diagnosed\n"
    assert [item.name for item in diagnostic.diagnostic_list_by_virtual_machine("rg", "vm1")] == ["d1"]
    diagnostic.begin_delete("rg", "vm1", "d1", polling_interval=0).result()
    with pytest.raises(ResourceNotFoundError):
        diagnostic.get_by_virtual_machine("rg", "vm1", "d1")

    vmss = client.virtual_machine_scale_set_vm_diagnostic_run_commands
    vmss.begin_create_or_update("rg", "ss1", "2", "d2", body, polling_interval=0).result()
    made = vmss.get("rg", "ss1", "2", "d2")
    assert made.type == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/diagnosticRunCommands"
    assert [item.name for item in vmss.diagnostic_list("rg", "ss1", "2")] == ["d2"]
    assert vmss.get("rg", "ss1", "2", "d2").properties.provisioning_state == "Succeeded"
