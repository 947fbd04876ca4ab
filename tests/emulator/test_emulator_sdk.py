"""The real Azure SDK (azure-mgmt-compute) drives the emulator over TLS: only base_url and CA change."""

from __future__ import annotations

import pytest

from pytest_runcommand.emulator.executor import Outcome
from pytest_runcommand.emulator.handles import ServedEmulator

pytest.importorskip("azure.mgmt.compute")

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient

SUB = "00000000-0000-0000-0000-000000000000"


def compute_client(emulator: ServedEmulator) -> ComputeManagementClient:
    return ComputeManagementClient(
        emulator.credential, SUB, base_url=emulator.base_url, connection_verify=emulator.ca_path
    )


@pytest.mark.parametrize("api_version", [None, "2024-07-01"])
def test_sdk_lifecycle(runcommand_emulator_server: ServedEmulator, api_version: str | None) -> None:
    runcommand_emulator_server.backend.settings.lro_polls = 1  # every operation shows InProgress once
    polled: list[str] = []
    runcommand_emulator_server.app.observers.append(
        lambda interaction: (
            polled.append(interaction.response_json["status"]) if "/operations/" in interaction.url else None
        )
    )
    pinned = {} if api_version is None else {"api_version": api_version}
    commands = compute_client(runcommand_emulator_server).virtual_machine_run_commands

    created = commands.begin_create_or_update(
        "rg",
        "vm1",
        "rc1",
        {
            "location": "westus",
            "properties": {
                "source": {"script": "echo created"},
                "runAsPassword": "p@ss-not-returned",
                "protectedParameters": [{"name": "key", "value": "protected-value"}],
            },
        },
        polling_interval=0,
        **pinned,
    ).result()
    assert created.provisioning_state == "Succeeded"
    assert created.run_as_password is None
    assert created.protected_parameters is None

    updated = commands.begin_update(
        "rg",
        "vm1",
        "rc1",
        {"properties": {"timeoutInSeconds": 120, "parameters": [{"name": "a", "value": "1"}]}, "tags": {"t": "v"}},
        polling_interval=0,
        **pinned,
    ).result()
    assert updated.provisioning_state == "Succeeded"
    assert updated.timeout_in_seconds == 120
    assert updated.source.script == "echo created", "PATCH keeps what it does not send"
    assert updated.tags == {"t": "v"}

    read = commands.get_by_virtual_machine("rg", "vm1", "rc1", expand="instanceView", **pinned)
    assert read.instance_view.execution_state == "Succeeded"
    assert read.instance_view.output == "created\n"
    assert read.instance_view.exit_code == 0

    assert [item.name for item in commands.list_by_virtual_machine("rg", "vm1", **pinned)] == ["rc1"]

    commands.begin_delete("rg", "vm1", "rc1", polling_interval=0, **pinned).result()
    with pytest.raises(ResourceNotFoundError) as missing:
        commands.get_by_virtual_machine("rg", "vm1", "rc1", **pinned)
    assert missing.value.error is not None
    assert missing.value.error.code == "ResourceNotFound"
    assert polled == ["InProgress", "Succeeded"] * 3, "create, update and delete each polled through InProgress"


def test_sdk_pages_through_next_link(runcommand_emulator_server: ServedEmulator) -> None:
    runcommand_emulator_server.backend.settings.page_size = 3
    commands = compute_client(runcommand_emulator_server).virtual_machine_run_commands
    for index in range(7):
        commands.begin_create_or_update(
            "rg", "vm1", f"rc{index}", {"location": "westus", "properties": {"source": {"script": "echo"}}}
        )
    names = [item.name for item in commands.list_by_virtual_machine("rg", "vm1")]
    assert names == [f"rc{index}" for index in range(7)]


def test_sdk_scale_set_vm_twins(runcommand_emulator_server: ServedEmulator) -> None:
    commands = compute_client(runcommand_emulator_server).virtual_machine_scale_set_vm_run_commands
    created = commands.begin_create_or_update(
        "rg",
        "ss",
        "0",
        "rc1",
        {"location": "westus", "properties": {"source": {"commandId": "RunShellScript"}}},
        polling_interval=0,
    ).result()
    assert created.type == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands"
    updated = commands.begin_update(
        "rg", "ss", "0", "rc1", {"properties": {"runAsUser": "ops"}}, polling_interval=0
    ).result()
    assert updated.run_as_user == "ops"
    assert updated.source.command_id == "RunShellScript"
    assert commands.get("rg", "ss", "0", "rc1", expand="instanceView").instance_view.execution_state == "Succeeded"
    commands.begin_delete("rg", "ss", "0", "rc1", polling_interval=0).result()
    assert list(commands.list("rg", "ss", "0")) == []


def test_sdk_sees_deployment_failure(runcommand_emulator_server: ServedEmulator) -> None:
    runcommand_emulator_server.executor.register(Outcome.failure(4, error="no such file"), script="cat /nope")
    commands = compute_client(runcommand_emulator_server).virtual_machine_run_commands
    poller = commands.begin_create_or_update(
        "rg",
        "vm1",
        "rc1",
        {
            "location": "westus",
            "properties": {"source": {"script": "cat /nope"}, "treatFailureAsDeploymentFailure": True},
        },
        polling_interval=0,
    )
    with pytest.raises(HttpResponseError, match="VMExtensionProvisioningError"):
        poller.result()


def test_sdk_unknown_vm_is_parent_resource_not_found(runcommand_emulator_server: ServedEmulator) -> None:
    runcommand_emulator_server.backend.settings.auto_create_vms = False
    commands = compute_client(runcommand_emulator_server).virtual_machine_run_commands
    with pytest.raises(ResourceNotFoundError) as missing:
        commands.get_by_virtual_machine("rg", "ghost", "rc1")
    assert missing.value.error is not None
    assert missing.value.error.code == "ParentResourceNotFound"


def test_sdk_default_version_with_script_shell_and_a_gallery_script(runcommand_emulator_server: ServedEmulator) -> None:
    """The SDK at its own default api-version (no api_version argument), with the fields only newer versions have."""
    from pytest_runcommand.contract import facts

    runcommand_emulator_server.backend.settings.lro_polls = 1
    sent: list[str] = []
    runcommand_emulator_server.app.observers.append(
        lambda interaction: sent.append(interaction.url.split("api-version=")[-1].split("&")[0])
    )
    commands = compute_client(runcommand_emulator_server).virtual_machine_run_commands
    created = commands.begin_create_or_update(
        "rg",
        "vm1",
        "rc1",
        {"location": "westus", "properties": {"source": {"script": "Write-Host hi", "scriptShell": "Powershell7"}}},
        polling_interval=0,
    ).result()
    assert created.provisioning_state == "Succeeded"
    assert created.source.script_shell == "Powershell7"
    assert created.system_data.created_by_type == "Application"
    assert runcommand_emulator_server.executor.runs[-1].script_shell == "Powershell7"

    gallery = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/scripts/s/versions/1.0.0"
    updated = commands.begin_update(
        "rg", "vm1", "rc1", {"properties": {"source": {"galleryScriptReferenceId": gallery}}}, polling_interval=0
    ).result()
    assert updated.provisioning_state == "Succeeded"
    assert updated.source.gallery_script_reference_id == gallery
    read = commands.get_by_virtual_machine("rg", "vm1", "rc1", expand="instanceView")
    assert read.instance_view.execution_state == "Succeeded"
    assert read.system_data.last_modified_at >= read.system_data.created_at

    commands.begin_delete("rg", "vm1", "rc1", polling_interval=0).result()
    assert (
        runcommand_emulator_server.backend.run_command(
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "rc1"
        )
        is None
    )
    assert set(sent) == {facts.LATEST_API_VERSION}, "the SDK's own default is the newest supported version"


def test_sdk_polls_at_the_emulators_retry_after(runcommand_emulator_server: ServedEmulator) -> None:
    """Issue 15: every InProgress status answer carries the configured ``Retry-After``, so the SDK (no
    ``polling_interval=``) waits 1 s per poll instead of azure-core's 30 s fallback (which it takes when the
    header is absent, or 0)."""
    import time

    from pytest_runcommand.interactions import Interaction

    settings = runcommand_emulator_server.backend.settings
    settings.lro_polls, settings.retry_after = 1, 1
    runcommand_emulator_server.use_clock("manual")  # only polls end the operation
    seen: list[Interaction] = []
    runcommand_emulator_server.app.observers.append(seen.append)
    commands = compute_client(runcommand_emulator_server).virtual_machine_run_commands
    started = time.monotonic()
    created = commands.begin_create_or_update(
        "rg", "vm1", "rc-retry-after", {"location": "westus", "properties": {"source": {"script": "echo"}}}
    ).result()
    took = time.monotonic() - started
    assert created.provisioning_state == "Succeeded"
    (put,) = [i for i in seen if i.method == "PUT" and "rc-retry-after" in i.url]
    assert put.response_header("Retry-After") == "1"
    status_url = (put.response_header("Azure-AsyncOperation") or "").partition("?")[0]
    polls = [i for i in seen if i.method == "GET" and i.url.partition("?")[0] == status_url]
    assert [(i.response_json["status"], i.response_header("Retry-After")) for i in polls] == [
        ("InProgress", "1"),
        ("Succeeded", None),
    ]
    assert took < 15, f"the SDK fell back to its own 30 s interval ({took:.1f} s)"  # ~2 s: two 1 s waits
