"""The real Azure CLI runs the action run command and reads the catalogue against the served emulator, offline.

``az vm run-command invoke`` (the most used run-command command) and ``az vmss run-command invoke`` POST
``.../runCommand``, follow the 202 to the end and print the RunCommandResult; ``az vm run-command list/show
--location`` read the built-in commands. Skips without ``az`` (``$RUNCOMMAND_AZ`` or ``PATH``), fails under CI.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_runcommand.azcli import AzureCli, AzureCliError
from pytest_runcommand.emulator.executor import Outcome
from pytest_runcommand.emulator.handles import ServedEmulator
from pytest_runcommand.interactions import Interaction

pytestmark = pytest.mark.runcommand_contract


@pytest.fixture
def traffic(runcommand_emulator_server: ServedEmulator) -> Iterator[list[Interaction]]:
    """Every exchange the emulator answers during the test."""
    seen: list[Interaction] = []
    runcommand_emulator_server.app.observers.append(seen.append)
    yield seen
    runcommand_emulator_server.app.observers.remove(seen.append)


def test_az_vm_run_command_invoke(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator, traffic: list[Interaction]
) -> None:
    result = runcommand_az.json(
        "vm", "run-command", "invoke", "--resource-group", "rg1", "--name", "vm1",
        "--command-id", "RunShellScript", "--scripts", "echo hello", "echo world", "--parameters", "a=1",
    )  # fmt: skip
    assert result == {
        "value": [
            {
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
                "message": "Enable succeeded: \n[stdout]\nhello\nworld\n\n[stderr]\n",
            }
        ]
    }
    run = runcommand_emulator_server.executor.runs[-1]
    assert run.command_id == "RunShellScript"
    assert run.script == "echo hello\necho world"
    assert run.parameters == (("a", "1"),)
    posts = [i for i in traffic if i.method == "POST" and i.url.split("?")[0].endswith("/runCommand")]
    assert [i.status for i in posts] == [202]


def test_az_vmss_run_command_invoke_windows(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator
) -> None:
    runcommand_emulator_server.executor.register(Outcome.success("Windows says hi\n"), command_id="RunPowerShellScript")
    result = runcommand_az.json(
        "vmss", "run-command", "invoke", "--resource-group", "rg1", "--name", "ss1", "--instance-id", "0",
        "--command-id", "RunPowerShellScript", "--scripts", "Write-Host Windows says hi",
    )  # fmt: skip
    assert [(entry["code"], entry["message"]) for entry in result["value"]] == [
        ("ComponentStatus/StdOut/succeeded", "Windows says hi"),
        ("ComponentStatus/StdErr/succeeded", ""),
    ]
    run = runcommand_emulator_server.executor.runs[-1]
    assert run.resource_id.lower().endswith("/virtualmachinescalesets/ss1/virtualmachines/0/runcommand")


def test_az_vm_run_command_list_and_show(runcommand_az: AzureCli) -> None:
    listed = runcommand_az.json("vm", "run-command", "list", "--location", "westus")
    by_id = {entry["id"]: entry["osType"] for entry in listed}
    assert by_id["RunShellScript"] == "Linux"
    assert by_id["IPConfig"] == "Windows"
    shown = runcommand_az.json("vm", "run-command", "show", "--location", "westus", "--command-id", "RunShellScript")
    assert shown["script"] == ["echo This is a sample script", "echo Optional parameters: $0 $1"]
    assert [p["name"] for p in shown["parameters"]] == ["arg1", "arg2"]
    with pytest.raises(AzureCliError) as missing:
        runcommand_az.json("vm", "run-command", "show", "--location", "westus", "--command-id", "NoSuchCommand")
    assert "NotFound" in str(missing.value)


def test_an_unknown_command_id_is_a_clear_cli_error(runcommand_az: AzureCli) -> None:
    with pytest.raises(AzureCliError) as refused:
        runcommand_az.json(
            "vm", "run-command", "invoke", "--resource-group", "rg1", "--name", "vm1",
            "--command-id", "NoSuchCommand", "--scripts", "echo never",
        )  # fmt: skip
    assert "NoSuchCommand" in str(refused.value)
    assert "commandId" in str(refused.value) or "command id" in str(refused.value)
