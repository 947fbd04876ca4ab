"""Names and regions the emulator would put into URLs are bounded: a 400 before any state changes, so every URL it
issues (Azure-AsyncOperation, Location) is one a client can follow; errors never echo a huge input whole."""

from __future__ import annotations

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.emulator.handles import InProcessEmulator
from pytest_runcommand.emulator.runcommands import MAX_LOCATION, MAX_NAME

SUB = "00000000-0000-0000-0000-000000000000"
VM = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
BODY = {"properties": {"source": {"script": "ls"}}}


@pytest.mark.parametrize("length", [MAX_LOCATION + 1, 70_000])
def test_a_region_longer_than_any_is_refused_and_nothing_is_created(
    runcommand_emulator: InProcessEmulator, length: int
) -> None:
    path = runcommand_emulator.run_command_path("rc1", vm="vmh")
    answer = runcommand_emulator.client.put(path, json={"location": "w" * length, **BODY})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "LocationNotAvailableForResourceType"
    assert len(answer.text) < 1_000  # the error does not echo the input whole
    message = answer.json()["error"]["message"]
    assert f"({length} characters)" in message if length > 80 else repr("w" * length) in message
    assert runcommand_emulator.client.get(path).status_code == 404
    assert all(not vm.commands() for vm in runcommand_emulator.backend.vms)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_name_longer_than_any_resource_name_is_refused(runcommand_emulator: InProcessEmulator, method: str) -> None:
    path = runcommand_emulator.run_command_path("r" * (MAX_NAME + 1))
    body = {"location": "westus", **BODY} if method == "PUT" else BODY
    answer = runcommand_emulator.client.request(method, path, json=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["target"]) == ("InvalidResourceName", "runCommandName")
    assert f"{MAX_NAME + 1} characters, more than the {MAX_NAME}" in error["message"]
    assert all(not vm.commands() for vm in runcommand_emulator.backend.vms)


def test_names_and_regions_at_the_bound_are_served(runcommand_emulator: InProcessEmulator) -> None:
    path = runcommand_emulator.run_command_path("r" * MAX_NAME)
    answer = runcommand_emulator.client.put(path, json={"location": "West US 2", **BODY})
    assert answer.status_code == 201
    assert runcommand_emulator.client.get(answer.headers["azure-asyncoperation"]).status_code == 200


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("west/us?x#y", "The provided location 'west/us?x#y' is not available"),
        ("nowhere!", "The provided location 'nowhere!' is not available"),
        ("w" * (MAX_LOCATION + 1), f"The provided location '{'w' * (MAX_LOCATION + 1)}' is not available"),
        ("w" * 500, "(500 characters)"),
    ],
)
def test_a_seeded_vms_region_is_checked_as_a_requests(
    location: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emulator", "--vm", f"{VM}={location}"]) == 2
    err = capsys.readouterr().err
    assert "--vm " in err
    assert message in err


def test_a_seeded_vms_names_are_checked_as_a_requests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--vm", VM.replace("vm1", "v" * (MAX_NAME + 1))]) == 2
    assert f"of 'vmName' is invalid: {MAX_NAME + 1} characters" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["rc%251", "rc 1", "rc%5C1", "rc%01" + "x" * 300])
def test_a_refused_name_is_told_what_a_name_may_hold(runcommand_emulator: InProcessEmulator, name: str) -> None:
    path = runcommand_emulator.run_command_path("rc1").replace("/rc1?", f"/{name}?")
    answer = runcommand_emulator.client.put(path, json={"location": "westus", **BODY})
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert "printable ASCII without spaces or the URL delimiters / ? # % \\" in message
    assert len(answer.text) < 1_000  # the error does not echo the input whole
    assert all(not vm.commands() for vm in runcommand_emulator.backend.vms)


@pytest.mark.parametrize("name", ["rc;x", "rc@1", "rc:1", "rc!1", "rc*1", "rc,1", "rc=1", "rc+1"])
def test_other_printable_names_are_taken_as_the_message_says(runcommand_emulator: InProcessEmulator, name: str) -> None:
    path = runcommand_emulator.run_command_path("rc1").replace("/rc1?", f"/{name}?")
    assert runcommand_emulator.client.put(path, json={"location": "westus", **BODY}).status_code == 201


def test_an_empty_region_after_the_equals_sign_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--vm", f"{VM}="]) == 2
    assert "the location after '=' is empty" in capsys.readouterr().err
