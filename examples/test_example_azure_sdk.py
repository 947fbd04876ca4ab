"""Drive the served emulator (real TLS on 127.0.0.1) with the Azure SDK for Python, unchanged but for base_url.

``runcommand_emulator_server`` gives the base URL, the CA bundle to trust and a credential the SDK accepts; the
marker validates every request the SDK sends and every answer it gets, LRO polling included.
"""

from __future__ import annotations

import pytest

azure_compute = pytest.importorskip("azure.mgmt.compute")

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@pytest.mark.runcommand_contract
def test_update_a_run_command_with_the_sdk(runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
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
        {"location": "westus", "properties": {"source": {"commandId": "RunShellScript"}}},
        api_version="2024-07-01",
        polling_interval=0,
    ).result()

    updated = commands.begin_update(
        "rg",
        "vm1",
        "patch-os",
        {"properties": {"runAsUser": "ops", "runAsPassword": "never-returned", "timeoutInSeconds": 600}},
        api_version="2024-07-01",
        polling_interval=0,
    ).result()

    assert updated.provisioning_state == "Succeeded"
    assert updated.run_as_user == "ops"
    assert updated.run_as_password is None
    assert updated.source.command_id == "RunShellScript"
