"""Test code that uses ``az vm run-command invoke`` (the action run command), end to end and offline.

Your code runs a script on a VM and reads what it printed out of the result's message. Here the real ``az``
(``runcommand_az``) runs against the served emulator; you register what the "VM" prints for a script
(``executor.register``) and check what your code makes of it. The result has the shape Azure gives: Linux
commands one ``ProvisioningState/succeeded`` entry whose message reads ``Enable succeeded: \\n[stdout]\\n...
\\n[stderr]\\n...``, Windows commands two entries (``StdOut``, ``StdErr``) holding the bare text.
"""

from __future__ import annotations

import pytest

from pytest_runcommand.emulator import Outcome

DISK_CHECK = "df --output=pcent / | tail -1"


def root_disk_used(runcommand_az, vm: str) -> int:  # type: ignore[no-untyped-def]
    """Your code: how full the VM's root disk is, in percent (what ``df`` printed on the VM)."""
    result = runcommand_az.json(
        "vm", "run-command", "invoke", "--resource-group", "prod-rg", "--name", vm,
        "--command-id", "RunShellScript", "--scripts", DISK_CHECK,
    )  # fmt: skip
    message = result["value"][0]["message"]
    stdout = message.split("[stdout]\n", 1)[1].split("\n[stderr]", 1)[0]
    return int(stdout.strip().rstrip("%"))


@pytest.mark.runcommand_contract
def test_root_disk_usage_is_read_from_the_vm(runcommand_az, runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
    runcommand_emulator_server.executor.register(Outcome.success(" 83%\n"), script=DISK_CHECK)

    assert root_disk_used(runcommand_az, "web-1") == 83

    (run,) = runcommand_emulator_server.executor.runs
    assert run.command_id == "RunShellScript"
    assert run.script == DISK_CHECK
    assert run.resource_id.endswith(
        "/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-1/runCommand"
    )


@pytest.mark.runcommand_contract
def test_a_garbled_answer_is_an_error_in_your_code(runcommand_az, runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
    runcommand_emulator_server.executor.register(Outcome.success("df: /: No such file\n"), script=DISK_CHECK)

    with pytest.raises(ValueError, match="No such file"):
        root_disk_used(runcommand_az, "web-1")
