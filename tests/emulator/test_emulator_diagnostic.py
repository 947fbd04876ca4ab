"""Diagnostic run commands (2026-04-01): the managed run commands' lifecycle in their own namespace and type.

Every answer is also checked against the contract at its own version by the conftest's observer (errors in the v3
ErrorResponse envelope).
"""

from __future__ import annotations

import pytest

from pytest_runcommand.contract import facts
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator import InProcessEmulator
from pytest_runcommand.emulator.state import DIAGNOSTIC

DIAGNOSTIC_VERSIONS = facts.versions_with("VirtualMachineDiagnosticRunCommands_CreateOrUpdate")
BASE = f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute"
PARENTS = {
    "Microsoft.Compute/virtualMachines": f"{BASE}/virtualMachines/vm1",
    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines": f"{BASE}/virtualMachineScaleSets/ss/virtualMachines/3",
}


@pytest.mark.parametrize("version", DIAGNOSTIC_VERSIONS)
@pytest.mark.parametrize("parent_type", sorted(PARENTS))
def test_lifecycle(runcommand_emulator: InProcessEmulator, version: str, parent_type: str) -> None:
    client = runcommand_emulator.client
    collection = f"{PARENTS[parent_type]}/diagnosticRunCommands"
    url = f"{collection}/diag1?api-version={version}"
    body = {"location": "westus", "properties": {"source": {"script": "echo diagnosing"}}}
    created = client.put(url, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["type"] == f"{parent_type}/diagnosticRunCommands"
    assert created.json()["id"].endswith("/diagnosticRunCommands/diag1")
    for _ in range(20):  # a client polling the resource sees it finish
        got = client.get(f"{url}&$expand=instanceView").json()
        if got["properties"]["provisioningState"] != "Creating":
            break
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert got["properties"]["instanceView"]["output"] == "diagnosing\n"
    patched = client.patch(url, json={"tags": {"k": "v"}})
    assert patched.status_code == 200
    assert [item["name"] for item in client.get(f"{collection}?api-version={version}").json()["value"]] == ["diag1"]
    managed = f"{PARENTS[parent_type]}/runCommands?api-version={version}"
    assert client.get(managed).json()["value"] == [], "diagnostic run commands have their own namespace"
    deleted = client.delete(url)
    assert deleted.status_code in (200, 202, 204)
    for _ in range(20):  # until the delete's operation is done
        gone = client.get(url)
        if gone.status_code != 200:
            break
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "ResourceNotFound"
    assert f"{parent_type}/diagnosticRunCommands" in gone.json()["error"]["message"]


def test_the_same_name_in_both_namespaces(runcommand_emulator: InProcessEmulator) -> None:
    client, version = runcommand_emulator.client, DIAGNOSTIC_VERSIONS[-1]
    vm = PARENTS["Microsoft.Compute/virtualMachines"]
    client.put(f"{vm}/runCommands/same?api-version={version}", json={"location": "westus", "properties": {}})
    body = {"location": "westus", "properties": {"source": {"commandId": "RunShellScript"}}}
    client.put(f"{vm}/diagnosticRunCommands/same?api-version={version}", json=body)
    backend = runcommand_emulator.backend
    diagnostic = backend.run_command(vm, "same", DIAGNOSTIC)
    managed = backend.run_command(vm, "same")
    assert diagnostic is not None
    assert managed is not None
    assert diagnostic is not managed
    assert diagnostic.properties.source is not None
    assert diagnostic.properties.source.command_id == "RunShellScript"


def test_a_version_without_diagnostic_run_commands_refuses_them(runcommand_emulator: InProcessEmulator) -> None:
    url = f"{PARENTS['Microsoft.Compute/virtualMachines']}/diagnosticRunCommands/d?api-version={facts.DEFAULT_API_VERSION}"
    response = runcommand_emulator.client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_a_bad_body_is_a_400_naming_the_field(runcommand_emulator: InProcessEmulator) -> None:
    url = (
        f"{PARENTS['Microsoft.Compute/virtualMachines']}/diagnosticRunCommands/d?api-version={DIAGNOSTIC_VERSIONS[-1]}"
    )
    response = runcommand_emulator.client.put(url, json={"location": "westus", "properties": {"timeoutInSeconds": "x"}})
    assert response.status_code == 400
    assert "timeoutInSeconds" in response.json()["error"].get("target", "")
